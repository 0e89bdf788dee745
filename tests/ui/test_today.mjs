/*
 * The Today screen (web/js/screens/today.js, issue 11) in headless
 * Chromium: the front desk checks a patient in and cancels with a reason,
 * a refused action says why next to its card, a no-show marked by the
 * server's worker shows by itself, a DST day shows the right local times,
 * a doctor sees only their own column, names are text, and the day prints
 * on one A4 page. Every screen passes axe and loads under 200 KB.
 *
 * Dates come from the real calendar, never a fixed year: "today" is today
 * in Berlin, and the boxes that need a clock of their own run on
 * libfaketime from a time of that day (the page's clock starts there too,
 * harness option clock: 'server'). The browser is in New York, so a time
 * shown in the browser's zone instead of the clinic's would be caught.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';

import {
  assertNoHorizontalScroll, assertWeight, axeCheck, expectText, loginCookie, newPage, screenshot, startServer,
} from './harness.mjs';

const XSS = '<img src=x onerror=alert(1)>';
const ZONE = 'Europe/Berlin';

/* "YYYY-MM-DD" of an instant in Berlin. */
function berlinDay(ms = Date.now()) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit' })
    .format(ms);
}

function addDays(day, n) {
  const d = new Date(day + 'T12:00:00Z');
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/* The last Sunday of a month (1-12) of a year, "YYYY-MM-DD". */
function lastSunday(year, month) {
  const d = new Date(Date.UTC(year, month, 0)); // the month's last day
  d.setUTCDate(d.getUTCDate() - d.getUTCDay());
  return d.toISOString().slice(0, 10);
}

/* The next last Sunday of `month` at least two days ahead. */
function nextLastSunday(month) {
  const soon = addDays(berlinDay(), 2);
  let y = Number(soon.slice(0, 4));
  while (lastSunday(y, month) < soon) y++;
  return lastSunday(y, month);
}

/* How the UI (British English, the harness's browser) writes the
 * wall-clock time of an API time ("2027-03-28T01:30:00+01:00" is "01:30"):
 * the API writes the clinic's local time with its offset, so the time is
 * read off the string, not computed in any zone. */
function shown(iso) {
  return iso.slice(11, 16);
}

/* Text with Intl's narrow and no-break spaces as plain spaces. */
function plain(s) {
  return (s || '').replace(/[\u202f\u00a0]/g, ' ');
}

/* GET on a connection of its own ({status, headers, json}): a box on a
 * fast clock closes idle connections before fetch() would reuse them. */
function getOnce(server, p) {
  return new Promise((resolve, reject) => {
    const req = http.get(server.url(p), { agent: false, headers: { Authorization: `Bearer ${server.token}` } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => { body += c; });
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, json: body ? JSON.parse(body) : null }));
      });
    req.on('error', reject);
  });
}

/* The server's clock now (its Date header), in Unix ms. */
async function serverNow(server) {
  const r = await getOnce(server, '/api/health');
  assert.equal(r.status, 200);
  return Date.parse(r.headers.date);
}

/* The doctor's free slots on a day, as the API gives them. */
async function slots(server, doctor, day) {
  const r = await getOnce(server, `/api/doctors/${doctor.id}/available-slots?from=${day}&to=${day}`);
  assert.equal(r.status, 200);
  return r.json.slots;
}

async function statusOf(server, appt) {
  const r = await getOnce(server, `/api/appointments/${appt.id}`);
  assert.equal(r.status, 200);
  return r.json;
}

/* The Today screen, logged in by cookie; waits for the columns. */
async function openToday(page, server, user, day) {
  await loginCookie(page, user.username, user.password);
  await page.goto(server.url('/#/today' + (day ? `?day=${day}` : '')));
  await page.locator('.today-cols').waitFor();
}

function card(page, appt) {
  return page.locator(`.today-appt[data-id="${appt.id}"]`);
}

/* One box for the tests that work on today: its clock starts at 07:05 UTC
 * of today in Berlin (08:05 or 09:05 there), so that the day has free
 * slots whatever the hour of the run. */
const TODAY = berlinDay();
let shared;
before(async () => {
  const server = await startServer(null, { faketime: `${TODAY} 07:05:00` });
  const { doctor, patient } = await server.seed({ patient: { name: XSS } });
  const desk = await server.addUser('desk', 'front_desk');
  shared = { server, doctor, patient, desk };
});
after(async () => {
  if (!shared) return;
  try {
    await shared.server.stop();
  } finally {
    shared.server.cleanup();
  }
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

  // cancel asks for a reason in the card (no window.prompt)
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

test('a no-show marked by the worker shows by itself, without a reload', async (t) => {
  // The box's clock runs 60 times faster (both clocks, as the API tests
  // do): the 15-minute grace passes in 15 s. Meanwhile the desk works on
  // (checks another patient in, then completes), as a session ends after
  // 15 minutes without a request and the screen's polls do not count.
  // Idle connections are kept for 60 s of its time (1 s of ours; the
  // default 2 s would be 33 ms), and the test's own requests open a
  // connection each.
  const server = await startServer(t, {
    faketime: `${TODAY} 08:00:00`,
    env: { FAKETIME: `@${TODAY} 08:00:00 x60`, FAKETIME_DONT_FAKE_MONOTONIC: '0' },
    args: ['--set', 'noshow_interval_seconds=10', '--set', 'http_keep_alive_ms=60000'],
  });
  const { doctor, patient } = await server.seed({ slotMinutes: 5 });
  const desk = await server.addUser('desk', 'front_desk');
  const other = await server.addPatient({ name: 'Otto Pünktlich' });
  const now = await serverNow(server);
  const free = await slots(server, doctor, TODAY);
  const slot = free.find((s) => Date.parse(s.start) >= now + 90_000);
  const later = free.find((s) => Date.parse(s.start) >= Date.parse(slot.start) + 3600_000);
  assert.ok(slot && later, 'free slots ahead');
  const appt = await server.book(doctor, patient, slot.start);
  const punctual = await server.book(doctor, other, later.start);
  const begins = Date.parse(appt.start);
  const until = async (ms) => {
    while (await serverNow(server) < ms) await new Promise((r) => setTimeout(r, 200));
  };

  const page = await newPage(t, server);
  await openToday(page, server, desk, TODAY);
  await expectText(card(page, appt).locator('[data-role=status]'), 'booked');
  await page.evaluate(() => { window.sameDocument = true; });
  await until(begins + 5 * 60_000);
  await card(page, punctual).getByRole('button', { name: 'Check in' }).click();
  await expectText(card(page, punctual).locator('[data-role=status]'), 'checked in');
  assert.equal(await card(page, appt).locator('[data-role=status]').textContent(), 'booked');
  await until(begins + 11 * 60_000);
  await card(page, punctual).getByRole('button', { name: 'Complete' }).click();
  await expectText(card(page, punctual).locator('[data-role=status]'), 'completed');
  await expectText(card(page, appt).locator('[data-role=status]'), 'no-show', { timeout: 20_000 });
  assert.equal(await page.evaluate(() => window.sameDocument), true, 'the page was not reloaded');
  const got = await statusOf(server, appt);
  assert.equal(got.status, 'no_show');
  assert.equal(got.updated_by, 'system:no-show');
  assert.ok(await serverNow(server) >= begins + 15 * 60_000, 'not before the grace');
  assert.equal(await card(page, appt).getByRole('button').count(), 0, 'no action on a no-show');
  await screenshot(page, 'no-show');
});

test('a DST day in Berlin shows the local times on both sides of the change', async (t) => {
  const server = await startServer(t);
  const { doctor, patient } = await server.seed({ slotMinutes: 30 });
  // Sunday nights, across the change (02:00 -> 03:00 in March, 03:00 -> 02:00 in October)
  await server.api('PUT', `/api/doctors/${doctor.id}/schedule`,
    { weekly: [{ weekday: 7, start: '00:00', end: '05:00' }], exceptions: [] }, { expect: 200 });
  const desk = await server.addUser('desk', 'front_desk');
  const page = await newPage(t, server);
  await loginCookie(page, desk.username, desk.password);

  const spring = nextLastSunday(3);
  const fall = nextLastSunday(10);
  const cases = [
    { day: spring, starts: [`${spring}T01:30:00+01:00`, `${spring}T03:30:00+02:00`], zones: ['CET', 'CEST'] },
    // 02:30 happens twice: first in summer time, then in winter time
    { day: fall, starts: [`${fall}T02:30:00+02:00`, `${fall}T02:30:00+01:00`], zones: ['CEST', 'CET'] },
  ];
  for (const { day, starts, zones } of cases) {
    const booked = [];
    for (const s of starts) booked.push(await server.book(doctor, patient, s));
    await page.goto(server.url(`/#/today?day=${day}`));
    await card(page, booked[1]).waitFor();
    await expectText(page.locator('.today-day'), 'Sunday');
    await expectText(page.locator('[data-role=dst]'), 'The clocks change on this day');
    const ids = await page.locator('.today-appt').evaluateAll((els) => els.map((e) => e.dataset.id));
    assert.deepEqual(ids, booked.map((a) => a.id), 'in time order');
    for (const [i, a] of booked.entries()) {
      const [from, to] = (await card(page, a).locator('time').allTextContents()).map(plain);
      assert.equal(from, `${shown(a.start)} ${zones[i]}`, `${a.start} shown as ${from}`);
      assert.ok(to.startsWith(shown(a.end)), `${a.end} shown as ${to}`);
    }
    await axeCheck(page, `today: DST ${day}`);
    await screenshot(page, `dst-${day.slice(5, 7)}`);
    // the Saturday before: no change, times without a zone
    await page.getByRole('button', { name: 'Previous day' }).click();
    await expectText(page.locator('.today-day'), 'Saturday');
    assert.equal(await page.locator('[data-role=dst]').count(), 0);
  }
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
