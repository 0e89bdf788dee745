/*
 * The Doctors screen (web/js/screens/doctors.js) in headless Chromium: an
 * admin adds a doctor and sets their working hours in the week grid and an
 * exception, and the API then has exactly that schedule; a refused range
 * shows the API's message next to its own row; a change made elsewhere
 * meanwhile is a 412 that offers the other version; a doctor sees only
 * their own hours and may change them. Names are text, never markup. Each
 * screen passes axe, weighs under 200 KB and is kept as a screenshot.
 *
 * The real clock: the one date entered (the exception) is 30 days ahead.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  assertWeight, axeCheck, expectText, loginCookie, newPage, screenshot, startServer,
} from './harness.mjs';

const XSS = '<img src=x onerror=alert(1)>';

/* A plain date `days` after today (UTC; any day 30 days ahead will do). */
function dayAhead(days) {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

/* A box with the clinic and one doctor working every day 08:00-18:00, an
 * admin account, and a page logged in as that admin on the Doctors screen. */
async function asAdmin(t, seed = {}) {
  const server = await startServer(t);
  const { doctor } = await server.seed(seed);
  const admin = await server.addUser('boss', 'admin');
  const page = await newPage(t, server);
  await loginCookie(page, admin.username, admin.password);
  return { server, doctor, page };
}

/* The schedule as the API has it. */
async function schedule(server, id) {
  return (await server.api('GET', `/api/doctors/${id}/schedule`, undefined, { expect: 200 })).json;
}

test('admin adds a doctor, sets two days and a closed day in the grid; the API has exactly that', async (t) => {
  const { server, page } = await asAdmin(t);
  await page.goto(server.url('/#/doctors'));
  await expectText(page.locator('.doctors-list'), 'Dr. Berta Brandt');
  await assertWeight(page);

  // a slot length the API refuses: its message next to the field, no doctor made
  await page.locator('#new-doctor-name').fill('Dr. Carla Cramer');
  await page.locator('#new-doctor-slot').fill('7');
  await page.getByRole('button', { name: 'Add doctor' }).click();
  await expectText(page.locator('#new-doctor-slot-error'), '5');
  assert.equal(await page.locator('#new-doctor-slot').getAttribute('aria-invalid'), 'true');
  assert.equal((await server.api('GET', '/api/doctors')).json.doctors.length, 1);

  await page.locator('#new-doctor-slot').fill('20');
  await page.getByRole('button', { name: 'Add doctor' }).click();
  await expectText(page.locator('#doctor-title'), 'Dr. Carla Cramer');
  const id = new URLSearchParams(page.url().split('?')[1]).get('id');
  const made = (await server.api('GET', `/api/doctors/${id}`, undefined, { expect: 200 })).json;
  assert.equal(made.name, 'Dr. Carla Cramer');
  assert.equal(made.slot_minutes, 20);
  // a new doctor works on no day yet
  assert.equal(await page.locator('.doctors-week .doctors-range').count(), 0);
  // the time inputs step by the slot length (in seconds)

  // Monday 08:00-12:00 and 14:00-18:00, Wednesday 16:00-24:00 (00:00 as an end)
  await page.getByRole('button', { name: 'Add hours (Monday)' }).click();
  assert.equal(await page.getByLabel('Monday, hours 1, from').getAttribute('step'), '1200');
  await page.getByLabel('Monday, hours 1, from').fill('08:00');
  await page.getByLabel('Monday, hours 1, until').fill('12:00');
  await page.getByRole('button', { name: 'Add hours (Monday)' }).click();
  await page.getByLabel('Monday, hours 2, from').fill('14:00');
  await page.getByLabel('Monday, hours 2, until').fill('18:00');
  await page.getByRole('button', { name: 'Add hours (Wednesday)' }).click();
  await page.getByLabel('Wednesday, hours 1, from').fill('16:00');
  await page.getByLabel('Wednesday, hours 1, until').fill('00:00');
  // a range added and removed again is not sent
  await page.getByRole('button', { name: 'Add hours (Friday)' }).click();
  await page.getByRole('button', { name: 'Remove (Friday, hours 1)' }).click();

  const closedDay = dayAhead(30);
  await page.getByRole('button', { name: 'Add an exception' }).click();
  await page.getByLabel('Exception 1, date').fill(closedDay);
  assert.ok(await page.getByLabel('Exception 1, closed all day').isChecked(), 'a new exception is a closed day');
  await screenshot(page, 'admin-editing');

  await page.getByRole('button', { name: 'Save working hours' }).click();
  await expectText(page.locator('.doctors-hours [role=status]'), 'Working hours saved.');
  assert.deepEqual(await schedule(server, id), {
    doctor_id: id,
    slot_minutes: 20,
    weekly: [
      { weekday: 1, start: '08:00', end: '12:00' },
      { weekday: 1, start: '14:00', end: '18:00' },
      { weekday: 3, start: '16:00', end: '24:00' },
    ],
    exceptions: [{ date: closedDay, closed: true }],
  });

  // opened again, the grid shows what is stored
  await page.reload();
  await expectText(page.locator('#doctor-title'), 'Dr. Carla Cramer');
  assert.equal(await page.getByLabel('Monday, hours 2, from').inputValue(), '14:00');
  assert.equal(await page.getByLabel('Wednesday, hours 1, until').inputValue(), '00:00');
  assert.equal(await page.getByLabel('Exception 1, date').inputValue(), closedDay);
  assert.equal(await page.locator('tr[data-weekday="2"] .doctors-range').count(), 0);
  await axeCheck(page, 'doctors (admin)');
  await screenshot(page, 'admin');
});

test('admin changes the slot length; the hours saved after it keep their ETag right', async (t) => {
  const { server, doctor, page } = await asAdmin(t);
  await page.goto(server.url(`/#/doctors?id=${doctor.id}`));
  await expectText(page.locator('#doctor-title'), 'Dr. Berta Brandt');
  // the doctor's heading takes the focus once it is shown
  await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'doctor-title',
    undefined, { timeout: 5000 });
  await page.locator('#doctor-slot').fill('30');
  await page.getByRole('button', { name: 'Save name and slot length' }).click();
  await expectText(page.locator('.doctors-details [role=status]'), 'Saved.');
  assert.equal((await server.api('GET', `/api/doctors/${doctor.id}`)).json.slot_minutes, 30);
  assert.equal(await page.getByLabel('Tuesday, hours 1, from').getAttribute('step'), '1800');
  // the schedule's ETag moved with the doctor's: saving the hours still works
  await page.getByLabel('Tuesday, hours 1, until').fill('12:00');
  await page.getByRole('button', { name: 'Save working hours' }).click();
  await expectText(page.locator('.doctors-hours [role=status]'), 'Working hours saved.');
  const s = await schedule(server, doctor.id);
  assert.deepEqual(s.weekly.find((w) => w.weekday === 2), { weekday: 2, start: '08:00', end: '12:00' });
});

test('a range ending before it starts shows the API\'s message next to that row; nothing is saved', async (t) => {
  const { server, doctor, page } = await asAdmin(t);
  const before = await schedule(server, doctor.id);
  await page.goto(server.url(`/#/doctors?id=${doctor.id}`));
  await expectText(page.locator('#doctor-title'), 'Dr. Berta Brandt');

  await page.getByRole('button', { name: 'Add hours (Thursday)' }).click();
  await page.getByLabel('Thursday, hours 2, from').fill('19:00');
  await page.getByLabel('Thursday, hours 2, until').fill('18:30');
  await page.getByRole('button', { name: 'Save working hours' }).click();

  const row = page.locator('tr[data-weekday="4"] .doctors-range').nth(1);
  await expectText(row.locator('.field-error'), 'start must be before end (19:00-18:30)');
  const from = page.getByLabel('Thursday, hours 2, from');
  assert.equal(await from.getAttribute('aria-invalid'), 'true');
  const errorId = await row.locator('.field-error').getAttribute('id');
  assert.ok((await from.getAttribute('aria-describedby')).split(' ').includes(errorId),
    'the input names its error');
  // only that row is marked; the form says why nothing was saved
  assert.equal(await page.locator('.doctors-hours .field-error').count(), 1);
  assert.equal(await page.getByLabel('Thursday, hours 1, from').getAttribute('aria-invalid'), null);
  await expectText(page.locator('.doctors-hours .problem'), 'The working hours were not saved');
  assert.deepEqual(await schedule(server, doctor.id), before);
  await axeCheck(page, 'doctors with a refused range');
  await screenshot(page, 'refused-range');

  // corrected, it saves
  await page.getByLabel('Thursday, hours 2, until').fill('20:00');
  await page.getByRole('button', { name: 'Save working hours' }).click();
  await expectText(page.locator('.doctors-hours [role=status]'), 'Working hours saved.');
  assert.equal(await page.locator('.doctors-hours .field-error').count(), 0);
  const thursday = (await schedule(server, doctor.id)).weekly.filter((w) => w.weekday === 4);
  assert.deepEqual(thursday, [{ weekday: 4, start: '08:00', end: '18:00' },
    { weekday: 4, start: '19:00', end: '20:00' }]);
});

test('hours changed elsewhere meanwhile: the save says so and loads the other version', async (t) => {
  const { server, doctor, page } = await asAdmin(t);
  await page.goto(server.url(`/#/doctors?id=${doctor.id}`));
  await expectText(page.locator('#doctor-title'), 'Dr. Berta Brandt');
  await page.getByRole('button', { name: 'Remove (Sunday, hours 1)' }).click();

  const theirs = [{ weekday: 2, start: '10:00', end: '11:00' }];
  await server.api('PUT', `/api/doctors/${doctor.id}/schedule`, { weekly: theirs }, { expect: 200 });
  await page.getByRole('button', { name: 'Save working hours' }).click();
  await expectText(page.locator('.doctors-hours [role=alert]'), 'Someone else changed these working hours');
  assert.deepEqual((await schedule(server, doctor.id)).weekly, theirs, 'nothing of this page was saved');
  await screenshot(page, 'changed-meanwhile');

  await page.getByRole('button', { name: 'Load their version' }).click();
  await expectText(page.locator('tr[data-weekday="1"]'), 'Not working');
  assert.equal(await page.getByLabel('Tuesday, hours 1, from').inputValue(), '10:00');
  assert.equal(await page.locator('.doctors-week .doctors-range').count(), 1);
});

test('a doctor sees only their own doctor and changes their own hours', async (t) => {
  const server = await startServer(t);
  const { doctor } = await server.seed({ doctor: XSS });
  const other = (await server.api('POST', '/api/doctors', { name: 'Dr. Otto Other' }, { expect: 201 })).json;
  const login = await server.addUser('own', 'doctor', { doctorId: doctor.id });
  const page = await newPage(t, server);
  await loginCookie(page, login.username, login.password);
  // even asked for the other doctor, the screen shows the own one
  await page.goto(server.url(`/#/doctors?id=${other.id}`));
  await expectText(page.locator('#doctor-title'), XSS);
  await assertWeight(page);
  assert.equal(await page.locator('h1').textContent(), 'My working hours');
  assert.ok(!(await page.locator('main').textContent()).includes('Dr. Otto Other'));
  assert.equal(await page.locator('.doctors-list, #new-doctor-name, #doctor-name, #doctor-slot').count(), 0,
    'no list, no new doctor, no name or slot length to change');
  await expectText(page.locator('main'), 'Slot length: 15 minutes');
  assert.equal(await page.locator('#doctor-title img').count(), 0, 'the name is text');

  await page.getByLabel('Saturday, hours 1, until').fill('13:00');
  await page.getByRole('button', { name: 'Save working hours' }).click();
  await expectText(page.locator('.doctors-hours [role=status]'), 'Working hours saved.');
  const s = await schedule(server, doctor.id);
  assert.deepEqual(s.weekly.find((w) => w.weekday === 6), { weekday: 6, start: '08:00', end: '13:00' });
  await axeCheck(page, 'doctors (doctor)');
  await screenshot(page, 'doctor');
});
