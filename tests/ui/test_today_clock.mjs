/*
 * The Today screen (web/js/screens/today.js, issue 11) and the clock, in
 * headless Chromium: a no-show the box's worker marks shows by itself,
 * without a reload; on the next last Sundays of March and October in Berlin
 * the times before and after the change are the right local times, each
 * with its zone; a reminder that was sent shows as "reminded" with its
 * time. The rest of the screen: test_today.mjs.
 *
 * Dates come from the real calendar, never a fixed year; the boxes run on
 * libfaketime from a time of today (Berlin) where they need a clock of
 * their own. The browser is in New York, so a time shown in the browser's
 * zone instead of the clinic's is caught.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  axeCheck, defer, expectText, loginCookie, newPage, screenshot, Server, startServer, until,
} from './harness.mjs';
import { SmtpSink } from './smtp_sink.mjs';
import {
  TODAY, addDays, berlinTime, card, nextLastSunday, openToday, plain, serverNow, shown, slots, statusOf,
} from './today_util.mjs';

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
  // the box's clock runs 60 times faster: its 11 minutes are 11 s of ours
  const serverTimeAt = (ms) => until(`the box's clock at ${new Date(ms).toISOString()}`,
    async () => await serverNow(server) >= ms, { timeout: 60_000 });

  const page = await newPage(t, server);
  await openToday(page, server, desk, TODAY);
  await expectText(card(page, appt).locator('[data-role=status]'), 'booked');
  await page.evaluate(() => { window.sameDocument = true; });
  await serverTimeAt(begins + 5 * 60_000);
  await card(page, punctual).getByRole('button', { name: 'Check in' }).click();
  await expectText(card(page, punctual).locator('[data-role=status]'), 'checked in');
  assert.equal(await card(page, appt).locator('[data-role=status]').textContent(), 'booked');
  await serverTimeAt(begins + 11 * 60_000);
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

test('a reminder that was sent shows as "reminded" with its time', async (t) => {
  // The box sends the 24-hour reminder to a mail sink when it runs again
  // 23.5 hours before the appointment (a restart on the same data at a
  // later faked time, as tests/api/test_ui_api.py RemindedAtTest does).
  const sink = await new SmtpSink().start();
  defer(t, () => sink.stop());
  const env = { ...sink.env(), CLINICBOX_PUBLIC_URL: 'https://praxis.example.org',
    CLINICBOX_OUTBOX_MAX_BACKOFF_SECONDS: '1', CLINICBOX_OUTBOX_TIMEOUT_SECONDS: '3' };
  const box = await startServer(t, { faketime: `${TODAY} 07:00:00`, env });
  const { doctor, patient } = await box.seed();
  const day = addDays(TODAY, 1);
  const free = (await slots(box, doctor, day)).filter((s) => Date.parse(s.start) >= box.now() + 25 * 3600_000);
  const reminded = await box.book(doctor, patient, free[0].start);
  const notYet = await box.book(doctor, patient, free[free.length - 1].start); // its 24 h have not begun
  assert.ok(Date.parse(notYet.start) - Date.parse(reminded.start) >= 3600_000, 'an hour or more apart');
  await box.stop();
  const at = new Date(Date.parse(reminded.start) - 23.5 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
  const later = new Server({ faketime: at, env, data: box.data });
  later.token = box.token; // the box's own token (a second one could not take its name)
  await startServer(t, later);
  const sent = await until('the reminder sent', async () => (await statusOf(later, reminded)).reminded_at,
    { timeout: 15_000 });
  const desk = await later.addUser('desk', 'front_desk');
  const page = await newPage(t, later, { clock: 'server' });
  await openToday(page, later, desk, day);
  const line = card(page, reminded).locator('[data-role=reminded]');
  // sent the day before: the date with the time, in the clinic's zone
  const text = await expectText(line, `reminded `);
  assert.ok(text.includes(shown(sent)) && text.includes(String(Number(sent.slice(8, 10)))), `${text} for ${sent}`);
  assert.equal(await card(page, notYet).locator('[data-role=reminded]').count(), 0);
  await axeCheck(page, 'today: reminded');
  await screenshot(page, 'reminded');
});

test('at midnight Today turns to the new day by a background poll: the clock is no user activity', async (t) => {
  // Box and page both start 8 s before midnight in Berlin and run on.
  const start = berlinTime(TODAY, '23:59:52');
  const tomorrow = addDays(TODAY, 1);
  const server = await startServer(t, { faketime: new Date(start).toISOString().slice(0, 19).replace('T', ' ') });
  await server.seed();
  const desk = await server.addUser('desk', 'front_desk');
  const page = await newPage(t, server, { clock: 'server' });
  const asked = [];
  page.on('request', (req) => {
    const u = new URL(req.url());
    if (u.pathname === '/api/appointments')
      asked.push({ from: u.searchParams.get('from'), background: req.headers()['clinicbox-background'] === '1' });
  });
  await openToday(page, server, desk);
  assert.ok(asked.some((a) => a.from === TODAY && !a.background), 'opening the screen is a request of the user');
  // the screen's clock moves it to the new day (within its 30 s tick)
  await until('a request for the new day', () => asked.some((a) => a.from === tomorrow), { timeout: 60_000 });
  const weekday = new Intl.DateTimeFormat('en-GB', { weekday: 'long', timeZone: 'UTC' })
    .format(new Date(`${tomorrow}T12:00:00Z`));
  await expectText(page.locator('.today-day'), weekday);
  // every request for it went as a background poll: an idle desk still
  // logs out 15 minutes after its last action, midnight or not
  assert.deepEqual(asked.filter((a) => a.from === tomorrow).map((a) => a.background),
    asked.filter((a) => a.from === tomorrow).map(() => true));
});
