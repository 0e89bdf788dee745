/*
 * The Book screen (web/js/screens/book.js, issue 11) in headless Chromium,
 * logged in as front desk (a user made through POST /api/users): finding
 * a patient by part of the phone number, adding one inline (the API's
 * field error next to the phone field, then fixed), booking a slot (the
 * confirmation, and the appointment through the API), a slot taken
 * meanwhile by another desk (the 409 with its alternatives, one of which
 * books with one click), another refusal (a day closed meanwhile: 422),
 * an empty day, and a patient named like markup shown as text. Each state
 * passes axe and is kept as a screenshot; the screen weighs under 200 KB.
 *
 * The box runs on the real clock: the bookings are tomorrow in the clinic's
 * zone (Europe/Berlin), where the seeded doctor works 08:00-18:00 every day,
 * so every time tested is in the future whenever the test runs.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  assertNoHorizontalScroll, assertWeight, axeCheck, expectText, loginCookie, newPage, screenshot, startServer, zoneDay,
} from './harness.mjs';
import { addDays, nextLastSunday } from './today_util.mjs';

const ZONE = 'Europe/Berlin';
const XSS = '<img src=x onerror=alert(1)>';
/* axe scans the whole page, the shell's menu and status bar too. */
const MAIN = {};

/* A date YYYY-MM-DD in the clinic's zone, `offset` days from today. */
function clinicDay(offset = 0) {
  const today = zoneDay(ZONE);
  const d = new Date(today + 'T12:00:00Z');
  d.setUTCDate(d.getUTCDate() + offset);
  return d.toISOString().slice(0, 10);
}

/* "Tuesday" and "December" for a day: how the confirmation writes it out. */
function dayWords(day) {
  const d = new Date(day + 'T12:00:00Z');
  const f = (o) => new Intl.DateTimeFormat('en', { timeZone: 'UTC', ...o }).format(d);
  return { weekday: f({ weekday: 'long' }), month: f({ month: 'long' }), date: String(d.getUTCDate()) };
}

/* A server with the clinic, a doctor working 08:00-18:00 daily, the patient
 * Anna Müller, a front-desk user, and a page logged in as that user. */
async function deskPage(t, pageOpts = {}) {
  const server = await startServer(t);
  const { doctor, patient } = await server.seed();
  const desk = await server.addUser('desk', 'front_desk');
  const page = await newPage(t, server, pageOpts);
  await loginCookie(page, desk.username, desk.password);
  return { server, doctor, patient, page, desk };
}

async function openBook(page, server, hash = '#/book') {
  await page.goto(server.url('/' + hash));
  await page.getByRole('heading', { level: 1, name: 'Book an appointment' }).waitFor();
}

/* Shows the free times of `day` and waits for them (the first free slot
 * of a working day starts at 08:00 there). */
async function showDay(page, day) {
  await page.getByLabel('Day', { exact: true }).fill(day);
  await page.locator(`#book-slots button[data-start^="${day}T08:00:00"]`).waitFor();
}

function slot(page, day, hhmm) {
  return page.locator(`#book-slots button[data-start^="${day}T${hhmm}:00"]`);
}

async function choosePatient(page, text, name) {
  await page.getByLabel('Find the patient').fill(text);
  await page.locator('.book-results button', { hasText: name }).click();
  await expectText(page.locator('#book-chosen'), name);
}

/* Another desk books the doctor's `hhmm` on `day` through the API, for a
 * patient of its own, while this page still lists the time as free. */
async function takeMeanwhile(server, doctor, day, hhmm) {
  const other = await server.addPatient({ name: 'Otto Anders', email: 'otto@example.org', phone: '+4917011112222' });
  const free = (await server.api('GET', `/api/doctors/${doctor.id}/available-slots?from=${day}&to=${day}`,
    undefined, { expect: 200 })).json.slots.find((s) => s.start.startsWith(`${day}T${hhmm}:00`));
  assert.ok(free, `${day} ${hhmm} is free`);
  await server.book(doctor, other, free.start);
}

async function appointmentsOf(server, patient) {
  const r = await server.api('GET', `/api/appointments?patient_id=${patient.id}`, undefined, { expect: 200 });
  return r.json.appointments;
}

test('a patient is found by part of the phone number, typed with a space, and chosen by keyboard', async (t) => {
  const { server, page } = await deskPage(t);
  await server.addPatient({ name: 'Bernd Beispiel', email: 'bernd@example.org', phone: '+4917099887766' });
  await openBook(page, server);

  const search = page.getByLabel('Find the patient');
  await search.fill('151 123'); // Anna's +4915112345678, not Bernd's
  const results = page.locator('.book-results button');
  await expectText(page.locator('.book-found'), '1 patient found.');
  assert.equal(await results.count(), 1);
  const shown = await results.first().textContent();
  assert.ok(shown.includes('Anna Müller') && shown.includes('+4915112345678') && shown.includes('anna@example.org'),
    shown);
  await axeCheck(page, 'book: search results', MAIN);
  await screenshot(page, 'search');

  // another search replaces the list: by name
  await search.fill('beisp');
  await expectText(page.locator('.book-results'), 'Bernd Beispiel');
  assert.equal(await results.count(), 1);

  // keyboard: arrow down into the list, Enter chooses
  await search.fill('example.org');
  await expectText(page.locator('.book-found'), '2 patients found.');
  await search.press('ArrowDown');
  assert.equal(await page.evaluate(() => document.activeElement.textContent.includes('Anna Müller')), true);
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await expectText(page.locator('#book-chosen'), 'Bernd Beispiel');
  assert.equal(await page.locator('.book-results').count(), 0, 'the list is gone once chosen');

  // "Change patient" brings the search back, with the focus in it
  await page.getByRole('button', { name: 'Change patient' }).click();
  await search.waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'book-search');

  // nothing matches: said so plainly
  await search.fill('Zacharias');
  await expectText(page.locator('.book-found'), 'No patient matches “Zacharias”');
});

test('a new patient: a bad phone number shows its error next to the phone field; fixed, the patient is added', async (t) => {
  const { server, page } = await deskPage(t);
  await openBook(page, server);
  await page.getByLabel('Find the patient').fill('Clara Neumann');
  await expectText(page.locator('.book-found'), 'No patient matches');
  await page.getByRole('button', { name: 'New patient' }).click();

  const name = page.getByLabel('Name', { exact: true });
  assert.equal(await name.inputValue(), 'Clara Neumann', 'the search text is the first guess for the name');
  const phone = page.getByLabel('Mobile phone');
  await phone.fill('0151 2345');
  await page.getByLabel('by SMS').uncheck();
  await page.getByRole('button', { name: 'Add patient' }).click();

  const err = page.locator('#book-new-phone-error');
  await expectText(err, 'E.164');
  assert.equal(await phone.getAttribute('aria-invalid'), 'true');
  assert.ok((await phone.getAttribute('aria-describedby')).split(' ').includes('book-new-phone-error'));
  // next to the phone field, inside its own field block, and nowhere else
  assert.equal(await page.locator('.field.has-error').count(), 1);
  assert.equal(await page.locator('.field.has-error #book-new-phone').count(), 1);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'book-new-phone', 'the focus goes to the field');
  let found = (await server.api('GET', '/api/patients?q=Clara', undefined, { expect: 200 })).json.patients;
  assert.equal(found.length, 0, 'nothing was added');
  await axeCheck(page, 'book: new patient with an error', MAIN);
  await screenshot(page, 'new-patient-error');

  await phone.fill('+49 151 23456789');
  await page.getByLabel('Email', { exact: true }).fill('clara@example.org');
  await page.getByRole('button', { name: 'Add patient' }).click();
  await expectText(page.locator('#book-chosen'), 'Clara Neumann');
  await expectText(page.locator('#book-chosen'), '+4915123456789');

  found = (await server.api('GET', '/api/patients?q=Clara', undefined, { expect: 200 })).json.patients;
  assert.equal(found.length, 1, JSON.stringify(found));
  assert.equal(found[0].phone, '+4915123456789');
  assert.equal(found[0].email, 'clara@example.org');
  assert.equal(found[0].notify_sms, false);
  assert.equal(found[0].notify_email, true);
});

test('booking a slot: the confirmation names patient, doctor, date and time; the API has the appointment', async (t) => {
  const { server, page, patient, doctor } = await deskPage(t);
  await openBook(page, server);
  const day = clinicDay(1);
  await choosePatient(page, 'Müller', 'Anna Müller');
  await showDay(page, day);
  await page.locator('#book-length').selectOption({ label: '30 minutes (2 slots)' });
  await page.locator(`#book-slots button[data-start^="${day}T08:00:00"]`).waitFor();
  await page.getByLabel('Reason (optional)').fill('Check-up\nbring the X-ray');
  await slot(page, day, '10:00').click();

  const confirm = page.locator('#book-confirm');
  const text = await expectText(confirm, 'Booked: Anna Müller with Dr. Berta Brandt');
  const w = dayWords(day);
  for (const part of [w.weekday, w.month, w.date, '10:00', '10:30'])
    assert.ok(text.includes(part), `${JSON.stringify(text)} names ${part}`);
  assert.equal(await confirm.getAttribute('role'), 'status');
  assert.equal(await page.getByRole('link', { name: 'Show on Today' }).getAttribute('href'), `#/today?day=${day}`);

  const list = await appointmentsOf(server, patient);
  assert.equal(list.length, 1, JSON.stringify(list));
  assert.equal(list[0].doctor_id, doctor.id);
  assert.ok(list[0].start.startsWith(`${day}T10:00:00`), list[0].start);
  assert.equal(list[0].duration_minutes, 30);
  assert.equal(list[0].reason, 'Check-up\nbring the X-ray');
  assert.equal(list[0].status, 'booked');
  assert.equal(list[0].created_by, 'user:desk');

  // the free times were read again: 09:45, 10:00 and 10:15 no longer fit 30 minutes
  for (const hhmm of ['09:45', '10:00', '10:15']) await slot(page, day, hhmm).waitFor({ state: 'detached' });
  assert.equal(await slot(page, day, '10:30').count(), 1);
  assert.equal(await page.getByLabel('Reason (optional)').inputValue(), '', 'the reason is cleared for the next booking');
  await axeCheck(page, 'book: booked', MAIN);
  await screenshot(page, 'booked');

  // the next patient
  await page.getByRole('button', { name: 'Book for another patient' }).click();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'book-search');
  assert.equal(await confirm.count(), 0);
});

test('on the night the clocks go back, the twice-happening 02:30 is shown as CEST and CET, and each books its own instant', async (t) => {
  const { server, page, patient, doctor } = await deskPage(t);
  // Sunday nights 00:00-05:00: in late October 02:00-03:00 happens twice
  await server.api('PUT', `/api/doctors/${doctor.id}/schedule`,
    { weekly: [{ weekday: 7, start: '00:00', end: '05:00' }], exceptions: [] }, { expect: 200 });
  const fall = nextLastSunday(10);
  await openBook(page, server);
  await choosePatient(page, 'Müller', 'Anna Müller');
  await page.getByLabel('Day', { exact: true }).fill(fall);
  const summer = page.locator(`#book-slots button[data-start="${fall}T02:30:00+02:00"]`);
  const winter = page.locator(`#book-slots button[data-start="${fall}T02:30:00+01:00"]`);
  await expectText(summer, '02:30 CEST');
  await expectText(winter, '02:30 CET');
  await axeCheck(page, 'book: DST day', MAIN);
  await winter.click();
  await expectText(page.locator('#book-confirm'), '02:30 CET');
  const list = await appointmentsOf(server, patient);
  assert.deepEqual(list.map((a) => a.start), [`${fall}T02:30:00+01:00`]);
  // a day without a change: times without a zone
  await page.getByRole('button', { name: 'Book for another patient' }).click();
  await choosePatient(page, 'Müller', 'Anna Müller');
  await page.getByLabel('Day', { exact: true }).fill(addDays(fall, 7));
  await expectText(page.locator(`#book-slots button[data-start^="${addDays(fall, 7)}T02:30:00"]`), '02:30');
  assert.equal((await page.locator('#book-slots button').first().textContent()).trim(), '00:00');
});

test('a slot taken meanwhile: the 409 message with alternatives; one click books an alternative', async (t) => {
  const { server, page, patient, doctor } = await deskPage(t);
  await openBook(page, server);
  const day = clinicDay(1);
  await choosePatient(page, 'anna@', 'Anna Müller');
  await showDay(page, day);
  await slot(page, day, '11:00').waitFor();

  // another desk books 11:00 through the API while this list is open
  await takeMeanwhile(server, doctor, day, '11:00');

  await slot(page, day, '11:00').click();
  const taken = page.locator('#book-taken');
  await expectText(taken, 'This time was taken meanwhile, so nothing was booked.');
  await expectText(taken, 'the doctor is already booked at that time');
  assert.equal(await taken.getAttribute('role'), 'alert');
  const alts = taken.locator('button');
  assert.equal(await alts.count(), 3);
  const altStarts = await alts.evaluateAll((bs) => bs.map((b) => b.dataset.start));
  assert.ok(altStarts[0].startsWith(`${day}T11:15:00`), altStarts.join(' '));
  assert.match(await alts.first().textContent(), /11:15/);
  assert.equal((await appointmentsOf(server, patient)).length, 0, 'nothing booked for Anna yet');
  // the list was read again: 11:00 is gone from it
  await slot(page, day, '11:00').waitFor({ state: 'detached' });
  await axeCheck(page, 'book: slot taken', MAIN);
  await screenshot(page, 'taken');

  await alts.first().click();
  await expectText(page.locator('#book-confirm'), 'Booked: Anna Müller with Dr. Berta Brandt');
  await expectText(page.locator('#book-confirm'), '11:15');
  assert.equal(await taken.count(), 0);
  const list = await appointmentsOf(server, patient);
  assert.equal(list.length, 1, JSON.stringify(list));
  assert.equal(list[0].start, altStarts[0]);
  assert.equal(list[0].status, 'booked');
  await slot(page, day, '11:15').waitFor({ state: 'detached' });
});

test('after a 409 the doctor and the length are changed: an alternative still books what was asked for', async (t) => {
  const { server, page, patient, doctor } = await deskPage(t);
  const second = (await server.api('POST', '/api/doctors', { name: 'Dr. Carl Cramer', slot_minutes: 20 },
    { expect: 201 })).json;
  const weekly = [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, start: '08:00', end: '18:00' }));
  await server.api('PUT', `/api/doctors/${second.id}/schedule`, { weekly, exceptions: [] }, { expect: 200 });
  await openBook(page, server);
  const day = clinicDay(1);
  await choosePatient(page, 'anna@', 'Anna Müller');
  await page.locator('#book-doctor').selectOption({ label: doctor.name });
  await showDay(page, day);
  await slot(page, day, '11:00').waitFor();
  await takeMeanwhile(server, doctor, day, '11:00');
  await slot(page, day, '11:00').click();
  const taken = page.locator('#book-taken');
  await expectText(taken, 'This time was taken meanwhile');
  const alt = taken.locator('button').first();
  const altStart = await alt.getAttribute('data-start');

  // now another doctor and a longer length are chosen; the alternative
  // (Dr. Brandt's free time) still books Dr. Brandt for 15 minutes
  await page.locator('#book-doctor').selectOption({ label: second.name });
  await page.locator('#book-length').selectOption({ index: 1 });
  await alt.click();
  await expectText(page.locator('#book-confirm'), 'Booked: Anna Müller with Dr. Berta Brandt');
  const list = await appointmentsOf(server, patient);
  assert.equal(list.length, 1, JSON.stringify(list));
  assert.equal(list[0].doctor_id, doctor.id);
  assert.equal(list[0].start, altStart);
  assert.equal(Date.parse(list[0].end) - Date.parse(list[0].start), 15 * 60_000);
});

test('a login again in another tab (new session, new CSRF token): a booking from this tab still goes through', async (t) => {
  const { server, page, patient, desk } = await deskPage(t);
  await openBook(page, server);
  const day = clinicDay(1);
  await choosePatient(page, 'anna@', 'Anna Müller');
  await showDay(page, day);
  const posts = [];
  page.on('response', (r) => {
    if (new URL(r.url()).pathname === '/api/appointments' && r.request().method() === 'POST') posts.push(r.status());
  });
  // the other tab's login: the cookie now names a new session, whose token
  // this tab has not seen
  await loginCookie(page, desk.username, desk.password);
  await slot(page, day, '10:00').click();
  await expectText(page.locator('#book-confirm'), 'Booked: Anna Müller with Dr. Berta Brandt');
  assert.deepEqual(posts, [403, 201], 'refused once for the old token, then sent with the new one');
  const list = await appointmentsOf(server, patient);
  assert.equal(list.length, 1, JSON.stringify(list));

  // someone else's login in the other tab: this tab does not act as them
  const boss = await server.addUser('boss', 'front_desk');
  await loginCookie(page, boss.username, boss.password);
  await page.getByRole('button', { name: 'Book for another patient' }).click();
  await choosePatient(page, 'anna@', 'Anna Müller');
  await slot(page, day, '10:30').click();
  await expectText(page.locator('#book-outcome [role=alert]'), 'CSRF');
  assert.deepEqual(posts, [403, 201, 403]);
  assert.equal((await appointmentsOf(server, patient)).length, 1);
});

test('a day closed meanwhile: the 422 detail is shown and the day shows no free times, with the next day one click away', async (t) => {
  const { server, page, patient, doctor } = await deskPage(t);
  await openBook(page, server);
  const day = clinicDay(1);
  await choosePatient(page, 'Anna', 'Anna Müller');
  await showDay(page, day);

  const weekly = [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, start: '08:00', end: '18:00' }));
  await server.api('PUT', `/api/doctors/${doctor.id}/schedule`, { weekly, exceptions: [{ date: day, closed: true }] },
    { expect: 200 });
  await slot(page, day, '09:00').click();
  const box = page.locator('#book-outcome .problem');
  await expectText(box, 'working hours');
  assert.equal(await box.getAttribute('role'), 'alert');
  assert.equal((await appointmentsOf(server, patient)).length, 0);

  // read again: nothing is free that day; said so, with the next day offered
  const empty = page.locator('.book-empty');
  await expectText(empty, `No free times on ${dayWords(day).weekday}`);
  await axeCheck(page, 'book: empty day', MAIN);
  await page.getByRole('button', { name: 'Show the next day' }).click();
  const next = clinicDay(2);
  assert.equal(await page.getByLabel('Day', { exact: true }).inputValue(), next);
  await slot(page, next, '08:00').waitFor();
});

test('a patient named like markup, preselected by the address: text in the search, the choice and the confirmation', async (t) => {
  const { server, page, doctor } = await deskPage(t);
  const xss = await server.addPatient({ name: XSS, email: 'x@example.org', phone: '+4916055544433' });
  // a screen's link to Book with the patient chosen
  await openBook(page, server, `#/book?patient=${xss.id}`);
  await expectText(page.locator('#book-chosen'), XSS);
  const day = clinicDay(1);
  await showDay(page, day);
  await expectText(page.locator('.book-times'), `Click a time to book it for ${XSS}.`);
  await slot(page, day, '12:00').click();
  await expectText(page.locator('#book-confirm'), `Booked: ${XSS} with ${doctor.name}`);
  assert.equal((await appointmentsOf(server, xss)).length, 1);

  await page.getByRole('button', { name: 'Book for another patient' }).click();
  await page.getByLabel('Find the patient').fill('onerror');
  await expectText(page.locator('.book-results'), XSS);
  assert.equal(await page.locator('#main img').count(), 0, 'no element was made from the name');
  await axeCheck(page, 'book: markup name', MAIN);
});

test('the Book screen loads under 200 KB, and refuses a click on a time before a patient is chosen', async (t) => {
  const { server, page, patient } = await deskPage(t);
  await openBook(page, server);
  const day = clinicDay(1);
  await showDay(page, day);
  await assertWeight(page);
  await axeCheck(page, 'book: free times', MAIN);
  await screenshot(page, 'free-times');

  await slot(page, day, '08:00').click();
  await expectText(page.locator('.book-picker [role="alert"]'), 'Choose or add the patient first');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'book-search');
  assert.equal((await appointmentsOf(server, patient)).length, 0);
});

test('at 200% zoom (512 px wide) nothing scrolls sideways; in German the screen speaks German', async (t) => {
  const { server, page, patient, doctor } = await deskPage(t, { viewport: { width: 512, height: 384 }, locale: 'de-DE' });
  await page.goto(server.url('/#/book?patient=' + patient.id));
  await page.getByRole('heading', { level: 1, name: 'Termin buchen' }).waitFor();
  await expectText(page.locator('#book-chosen'), 'Anna Müller');
  const day = clinicDay(1);
  await page.getByLabel('Tag', { exact: true }).fill(day);
  await slot(page, day, '08:00').waitFor();
  const weekday = new Intl.DateTimeFormat('de', { timeZone: 'UTC', weekday: 'long' }).format(new Date(day + 'T12:00:00Z'));
  await expectText(page.locator('#book-times-title'), `Freie Zeiten am ${weekday}`);
  assert.equal((await slot(page, day, '08:00').textContent()).trim(), '08:00');
  await assertNoHorizontalScroll(page);
  await screenshot(page, 'german-narrow');
  await slot(page, day, '08:00').click();
  await expectText(page.locator('#book-confirm'), `Gebucht: Anna Müller bei Dr. Berta Brandt am ${weekday}`);
  await expectText(page.locator('#book-confirm'), 'um 08:00 Uhr');
  await assertNoHorizontalScroll(page);

  // the box's own words (English) in the German screen are marked as
  // English (WCAG 3.1.2), after the screen's German sentence
  await page.getByRole('button', { name: 'Für einen anderen Patienten buchen' }).click();
  await page.locator('#book-search').fill('Müller');
  await page.locator('.book-results button', { hasText: 'Anna Müller' }).click();
  await expectText(page.locator('#book-chosen'), 'Anna Müller');
  await page.getByLabel('Tag', { exact: true }).fill(day);
  await slot(page, day, '09:00').waitFor();
  await takeMeanwhile(server, doctor, day, '09:00');
  await slot(page, day, '09:00').click();
  const taken = page.locator('#book-taken');
  await expectText(taken, 'inzwischen');
  assert.match(await taken.locator('[lang="en"]').textContent(), /already booked/);
  await axeCheck(page, 'book: German, a 409 in the box\'s words', MAIN);
});
