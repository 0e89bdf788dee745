/*
 * The Today screen (web/js/screens/today.js, issue 11) in headless
 * Chromium, as the front desk and as a doctor: check-in and cancel with a
 * reason change the card at once and the box agrees, a refused action says
 * why next to its card, the screen polls with its ETag (a 304 while nothing
 * changes), a doctor sees only their own column, names are text, it loads
 * under 200 KB, reflows at 200% zoom, and the day prints on one A4 page.
 * Every state passes axe. The screen and the clock (no-shows by themselves,
 * DST days, reminders): test_today_clock.mjs.
 *
 * "Today" is today in Berlin by the real calendar, never a fixed date; the
 * box's clock starts at 07:05 UTC of that day (libfaketime), so the day has
 * free slots whatever the hour of the run, and the page's clock starts
 * there too (harness option clock: 'server'). The browser is in New York,
 * so a time shown in the browser's zone instead of the clinic's is caught.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  assertNoHorizontalScroll, assertWeight, axeCheck, expectText, newPage, screenshot, sharedServer, startServer, until,
} from './harness.mjs';
import {
  TODAY, XSS, addDays, card, openToday, plain, shown, slots, statusOf,
} from './today_util.mjs';

/* One box for the tests that work on today: its clock starts at 07:05 UTC
 * of today in Berlin (08:05 or 09:05 there), so that the day has free
 * slots whatever the hour of the run. */
const shared = sharedServer({ faketime: `${TODAY} 07:05:00` }, async (server) => {
  const { doctor, patient } = await server.seed({ patient: { name: XSS } });
  const desk = await server.addUser('desk', 'front_desk');
  return { doctor, patient, desk };
});

test('front desk: check-in, cancel with a reason, a refused action says why', async (t) => {
  const { server, doctor, patient, desk } = shared;
  const free = (await slots(server, doctor, TODAY)).filter((s) => Date.parse(s.start) >= server.now() + 3600_000);
  assert.ok(free.length >= 3, `free slots today: ${JSON.stringify(free)}`);
  const other = await server.addPatient({ name: 'Jürgen Groß' });
  const a = await server.book(doctor, patient, free[0].start, { reason: 'Back pain' });
  const b = await server.book(doctor, other, free[1].start);
  const c = await server.book(doctor, other, free[2].start);

  const page = await newPage(t, server, { clock: 'server' });
  await openToday(page, server, desk);
  await expectText(page.locator('.today-day'), '(today)');
  // the card: time in the clinic's zone, the name as text, status in words
  assert.equal(plain(await card(page, a).locator('.today-time').textContent()), `${shown(a.start)}–${shown(a.end)}`);
  // the name comes with the patient's record, after the list
  assert.equal(await expectText(card(page, a).locator('h3'), XSS), XSS);
  assert.equal(await page.locator('.today img').count(), 0, 'no element was made from a name');
  assert.equal(await card(page, a).locator('[data-role=status]').textContent(), 'booked');
  assert.match(await card(page, a).textContent(), /Back pain/);
  // the line at the current time comes before the appointments (all later)
  const order = await page.locator('.today-list > li').evaluateAll((els) => els.map((e) => e.dataset.role || e.dataset.id));
  assert.deepEqual(order, ['now', a.id, b.id, c.id]);
  assert.match(await page.locator('[data-role=now]').textContent(), /Now \d\d:\d\d/);
  await axeCheck(page, 'today');
  await screenshot(page, 'desk');

  // check-in: the card changes at once, and the box has it
  await card(page, a).getByRole('button', { name: 'Check in' }).click();
  await expectText(card(page, a).locator('[data-role=status]'), 'checked in');
  assert.equal((await statusOf(server, a)).status, 'checked_in');
  assert.equal(await card(page, a).getByRole('button', { name: 'Complete' }).count(), 1);
  assert.equal(await card(page, a).getByRole('button', { name: 'Check in' }).count(), 0);
  await expectText(page.locator('.today > [role=status]'), 'is checked in');

  // cancel asks for a reason in the card (no window.prompt); "Keep it"
  // closes the form and gives the focus back to "Cancel…" (not to <body>)
  await card(page, b).getByRole('button', { name: 'Cancel…' }).click();
  await card(page, b).getByRole('button', { name: 'Keep it' }).click();
  await page.waitForFunction(() => document.activeElement && document.activeElement.dataset.act === 'cancel',
    undefined, { timeout: 5000 });
  assert.equal(await card(page, b).getByRole('button', { name: 'Cancel…' }).evaluate((el) => el === document.activeElement), true);
  await card(page, b).getByRole('button', { name: 'Cancel…' }).click();
  await card(page, b).getByLabel('Reason for cancelling (optional)').fill('Patient called');
  await axeCheck(page, 'today: cancel form');
  await card(page, b).getByRole('button', { name: 'Cancel appointment' }).click();
  await expectText(card(page, b).locator('[data-role=status]'), 'cancelled');
  await expectText(card(page, b), 'Cancelled: Patient called');
  const cancelled = await statusOf(server, b);
  assert.equal(cancelled.status, 'cancelled');
  assert.equal(cancelled.cancel_reason, 'Patient called');

  // someone else cancels c before this screen's next poll (held back
  // here); checking it in is refused with the box's words, and the card
  // then shows what changed
  const held = [];
  const isList = (url) => url.pathname === '/api/appointments';
  await page.route(isList, (route) => { held.push(route); });
  await server.api('POST', `/api/appointments/${c.id}/cancel`, undefined, { expect: 200 });
  await card(page, c).getByRole('button', { name: 'Check in' }).click();
  await expectText(card(page, c).locator('[role=alert]'), 'only a booked appointment can be checked in');
  assert.equal(await card(page, c).locator('[data-role=status]').textContent(), 'booked');
  for (const r of held.splice(0)) await r.continue();
  await page.unroute(isList);
  await expectText(card(page, c).locator('[data-role=status]'), 'cancelled');
  assert.equal((await statusOf(server, c)).status, 'cancelled');
  await axeCheck(page, 'today: refused');
  await screenshot(page, 'desk-after-actions');

  // another day has no line at the current time; back to today has it again
  await page.getByRole('button', { name: 'Next day' }).click();
  await expectText(page.locator('.today-day'), new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', timeZone: 'UTC' })
    .format(Date.parse(addDays(TODAY, 1) + 'T12:00:00Z')));
  assert.equal(await page.locator('[data-role=now]').count(), 0);
  await page.getByRole('button', { name: 'Back to today' }).click();
  await card(page, a).waitFor();
  assert.equal(await page.locator('[data-role=now]').count(), 1);
});

test('the screen polls with its ETag: 304 while nothing changes, the change when something does', async (t) => {
  const { server, doctor, patient, desk } = shared;
  const day = addDays(TODAY, 2);
  const free = await slots(server, doctor, day);
  const first = await server.book(doctor, patient, free[0].start);
  const page = await newPage(t, server, { clock: 'server' });
  const polls = [];
  page.on('response', (r) => {
    if (new URL(r.url()).pathname !== '/api/appointments') return;
    const h = r.request().headers();
    polls.push({ status: r.status(), sent: h['if-none-match'] || '', etag: r.headers().etag || '',
      background: h['clinicbox-background'] });
  });
  await openToday(page, server, desk, day);
  await card(page, first).waitFor();
  const notModified = async () => polls.find((p) => p.status === 304);
  await until('a 304 within a few polls', notModified, { timeout: 15_000 });
  const [answer] = polls;
  assert.equal(answer.status, 200);
  assert.ok(answer.etag, 'the list has an ETag');
  assert.equal((await notModified()).sent, answer.etag);
  // opening the day is the user's request (it keeps the session); the
  // timer's polls are background requests (an open screen does not)
  assert.equal(answer.background, undefined, 'the first request is not background');
  assert.ok(polls.slice(1).every((p) => p.background === '1'), 'polls are background requests');
  // a booking made elsewhere: the next poll answers 200 and the card shows
  const before = polls.length;
  const second = await server.book(doctor, patient, free[1].start);
  await card(page, second).waitFor({ timeout: 8000 });
  const changed = polls.slice(before).find((p) => p.status === 200);
  assert.ok(changed && changed.sent === answer.etag && changed.etag !== answer.etag, JSON.stringify(polls));
});

test('a doctor sees only their own column, with only the actions a doctor may take', async (t) => {
  const { server, patient } = shared;
  const mine = (await server.api('POST', '/api/doctors', { name: 'Dr. Mia Mein', slot_minutes: 15 }, { expect: 201 })).json;
  await server.api('PUT', `/api/doctors/${mine.id}/schedule`,
    { weekly: [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, start: '08:00', end: '18:00' })), exceptions: [] },
    { expect: 200 });
  const day = addDays(TODAY, 1);
  const own = await server.book(mine, patient, (await slots(server, mine, day))[4].start);
  const others = await server.book(shared.doctor, patient, (await slots(server, shared.doctor, day))[4].start);
  const user = await server.addUser('mia', 'doctor', { doctorId: mine.id });

  const page = await newPage(t, server, { clock: 'server' });
  await openToday(page, server, user, day);
  await card(page, own).waitFor();
  const cols = await page.locator('.today-col').evaluateAll((els) => els.map((e) => e.dataset.doctor));
  assert.deepEqual(cols, [mine.id]);
  assert.equal(await card(page, others).count(), 0);
  assert.equal(await page.locator('.today-appt').count(), 1);
  assert.equal(await expectText(card(page, own).locator('h3'), XSS), XSS);
  assert.equal(await card(page, own).getByRole('button', { name: 'Check in' }).count(), 1);
  assert.equal(await page.getByRole('button', { name: /Cancel|No-show/ }).count(), 0, 'cancel and no-show are the desk\'s');
  await axeCheck(page, 'today: doctor');
  await screenshot(page, 'doctor');
});

test('the screen loads under 200 KB and reflows at 200% zoom', async (t) => {
  const { server, doctor, patient, desk } = shared;
  const free = (await slots(server, doctor, TODAY)).filter((s) => Date.parse(s.start) >= server.now() + 3600_000);
  const a = await server.book(doctor, patient, free[free.length - 1].start, { reason: 'A reason long enough to wrap on a narrow screen' });
  const page = await newPage(t, server, { clock: 'server' });
  await openToday(page, server, desk);
  await card(page, a).waitFor();
  await assertWeight(page);
  await assertNoHorizontalScroll(page);
  // 1024x768 at 200% zoom is a 512x384 CSS-pixel window
  await page.setViewportSize({ width: 512, height: 384 });
  await assertNoHorizontalScroll(page);
  assert.ok(await card(page, a).getByRole('button', { name: 'Check in' }).isVisible());
  await axeCheck(page, 'today: 200% zoom');
  await screenshot(page, 'zoom-200');
});

test('the day prints on one A4 page without the buttons (25 appointments)', async (t) => {
  const server = await startServer(t, { faketime: `${TODAY} 07:05:00` });
  const first = await server.seed({ doctor: 'Dr. Ada Lovelace' });
  const doctors = [first.doctor];
  for (const name of ['Dr. Bob Brandt', 'Dr. Carla Mendes']) {
    const d = (await server.api('POST', '/api/doctors', { name, slot_minutes: 15 }, { expect: 201 })).json;
    await server.api('PUT', `/api/doctors/${d.id}/schedule`,
      { weekly: [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, start: '08:00', end: '18:00' })), exceptions: [] },
      { expect: 200 });
    doctors.push(d);
  }
  const names = ['Anna Schmidt', 'Jürgen Müller-Lüdenscheidt', 'Li Wei', 'Maria Garcia-Fernández', XSS];
  const patients = [first.patient];
  for (const name of names) patients.push(await server.addPatient({ name }));
  const day = addDays(TODAY, 1);
  const free = [];
  for (const d of doctors) free.push((await slots(server, d, day)).slice(0, 9));
  for (let i = 0; i < 25; i++) {
    const d = i % 3;
    await server.book(doctors[d], patients[i % patients.length], free[d][Math.floor(i / 3)].start,
      { reason: i % 4 ? 'Check-up' : 'Follow-up after the operation, with the lab results from last week to discuss' });
  }
  const desk = await server.addUser('desk', 'front_desk');
  // A4 less the stylesheet's 12 mm margins, at 96 dpi: 186 x 273 mm
  const page = await newPage(t, server, { clock: 'server', viewport: { width: 703, height: 1032 } });
  await openToday(page, server, desk, day);
  await expectText(page.locator('.today-cols'), 'Follow-up');
  assert.equal(await page.locator('.today-appt').count(), 25);
  assert.ok(await page.getByRole('button', { name: 'Print' }).isVisible());
  await screenshot(page, 'print-screen');

  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.locator('main button:visible').count(), 0, 'no buttons on paper');
  assert.equal(await page.locator('.today-picker:visible, .today-actions:visible').count(), 0);
  const height = await page.locator('main').evaluate((m) => m.getBoundingClientRect().bottom);
  assert.ok(height <= 1032, `the printed day is ${height} px high, over an A4 page (1032 px)`);
  await screenshot(page, 'print');
  const pdf = await page.pdf({ format: 'A4' });
  const pages = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) || []).length;
  assert.equal(pages, 1, `the PDF has ${pages} pages`);
});
