/*
 * The Patients screen (web/js/screens/patients.js) in headless Chromium,
 * as the front desk: search as you type, change a phone number (the API
 * then has it), an edit that collides with a change made meanwhile (412:
 * the message, both versions side by side, "keep mine" saves mine and "use
 * theirs" saves nothing), the appointment history newest first with times
 * in the clinic's zone (the browser is in New York), Book, and as admin the
 * inline delete confirmation. A patient named like markup shows as text,
 * and no dialog ever opens (the harness fails the test if one does). Each
 * screen passes axe, weighs under 200 KB and is kept as a screenshot.
 *
 * The real clock: appointments are booked on free slots the API offers
 * from now on.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  assertWeight, axeCheck, expectText, loginCookie, newPage, screenshot, startServer, until,
} from './harness.mjs';

const XSS = '<img src=x onerror=alert(1)>';

/* A box with the clinic, a doctor, Anna Müller and two more patients, and a
 * page logged in as `role` (front desk unless said). */
async function box(t, role = 'front_desk') {
  const server = await startServer(t);
  const { doctor, patient } = await server.seed();
  const bruno = await server.addPatient({ name: 'Bruno Berger', email: 'bruno@example.org', phone: '+4917000000002' });
  const odd = await server.addPatient({ name: XSS, email: 'odd@example.org', phone: '+4917000000003' });
  const user = await server.addUser(role === 'admin' ? 'boss' : 'desk', role);
  const page = await newPage(t, server);
  await loginCookie(page, user.username, user.password);
  return { server, doctor, anna: patient, bruno, odd, page };
}

async function patient(server, id) {
  return (await server.api('GET', `/api/patients/${id}`, undefined, { expect: 200 })).json;
}

/* The rows of the search results, as their names. */
async function resultNames(page) {
  return page.locator('.patients-list tbody th').allTextContents();
}

/* Waits until the search results are exactly `names`. */
async function expectResults(page, names) {
  let seen;
  await until(() => `the search results ${JSON.stringify(names)}, saw ${JSON.stringify(seen)}`, async () => {
    seen = await resultNames(page);
    return JSON.stringify(seen) === JSON.stringify(names);
  }, { timeout: 10_000, interval: 50 });
}

test('front desk finds a patient by name, changes the phone, and the API has it', async (t) => {
  const { server, anna, page } = await box(t);
  await page.goto(server.url('/#/patients'));
  await expectResults(page, [XSS, 'Anna Müller', 'Bruno Berger']); // empty search: all, by name
  await assertWeight(page);

  await page.getByLabel('Name, phone or email').fill('müll');
  await expectResults(page, ['Anna Müller']);
  await page.getByLabel('Name, phone or email').fill('+4917000000002'); // by phone too
  await expectResults(page, ['Bruno Berger']);
  await page.getByLabel('Name, phone or email').fill('ANNA');
  await expectResults(page, ['Anna Müller']);
  await page.getByRole('link', { name: 'Anna Müller' }).click();
  // the patient's heading takes the focus once it is shown
  await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'patient-title',
    undefined, { timeout: 5000 });
  await expectText(page.locator('#patient-title'), 'Anna Müller');
  assert.ok(page.url().endsWith(`#/patients?id=${anna.id}`), page.url());
  assert.equal(await page.locator('#patient-phone').inputValue(), '+4915112345678');

  await page.locator('#patient-phone').fill('+4930123456');
  await page.locator('#patient-notify-sms').uncheck();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expectText(page.locator('.patients-detail form [role=status]'), 'Saved.');
  const saved = await patient(server, anna.id);
  assert.equal(saved.phone, '+4930123456');
  assert.equal(saved.notify_sms, false);
  assert.equal(saved.email, 'anna@example.org');
  // the list shows the new number too
  await expectText(page.locator('.patients-list'), '+4930123456');

  // a number the API refuses: its message next to the phone field
  await page.locator('#patient-phone').fill('0301234');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expectText(page.locator('#patient-phone-error'), 'E.164');
  assert.equal(await page.locator('#patient-phone').getAttribute('aria-invalid'), 'true');
  assert.equal((await patient(server, anna.id)).phone, '+4930123456');
  await axeCheck(page, 'patients (front desk)');
  await screenshot(page, 'front-desk');
});

test('an edit that collides with a change made meanwhile: the 412 in plain words, both versions, keep mine', async (t) => {
  const { server, anna, page } = await box(t);
  await page.goto(server.url(`/#/patients?id=${anna.id}`));
  await expectText(page.locator('#patient-title'), 'Anna Müller');
  await page.locator('#patient-email').fill('anna.mine@example.org');

  // someone else changes her meanwhile
  await server.api('PUT', `/api/patients/${anna.id}`, { name: 'Anna Meier-Müller', phone: '+4930999999' },
    { expect: 200 });
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  const conflict = page.locator('.patients-conflict');
  await expectText(conflict, 'Someone else changed this patient while you were editing');
  const cell = (version, field) => conflict.locator(`td[data-version="${version}"][data-field="${field}"]`);
  assert.equal(await cell('theirs', 'name').textContent(), 'Anna Meier-Müller');
  assert.equal(await cell('mine', 'name').textContent(), 'Anna Müller');
  assert.equal(await cell('theirs', 'phone').textContent(), '+4930999999');
  assert.equal(await cell('theirs', 'email').textContent(), 'anna@example.org');
  assert.equal(await cell('mine', 'email').textContent(), 'anna.mine@example.org');
  assert.equal(await conflict.locator('tr.differs').count(), 3, 'name, phone and email differ');
  // nothing of mine was saved yet
  assert.equal((await patient(server, anna.id)).email, 'anna@example.org');
  await axeCheck(page, 'patients with a conflict');
  await screenshot(page, 'conflict');

  await page.getByRole('button', { name: 'Keep mine and save again' }).click();
  await expectText(page.locator('.patients-detail form [role=status]'), 'Saved.');
  assert.equal(await conflict.count(), 0);
  const saved = await patient(server, anna.id);
  assert.deepEqual([saved.name, saved.phone, saved.email],
    ['Anna Müller', '+4915112345678', 'anna.mine@example.org'], 'all of mine');
});

test('a collision resolved with "use theirs" saves nothing and shows theirs', async (t) => {
  const { server, anna, page } = await box(t);
  await page.goto(server.url(`/#/patients?id=${anna.id}`));
  await expectText(page.locator('#patient-title'), 'Anna Müller');
  await page.locator('#patient-phone').fill('+4930111111');
  await server.api('PUT', `/api/patients/${anna.id}`, { email: 'anna.theirs@example.org' }, { expect: 200 });
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expectText(page.locator('.patients-conflict'), 'Someone else changed this patient');
  await page.getByRole('button', { name: 'Use theirs' }).click();
  assert.equal(await page.locator('#patient-email').inputValue(), 'anna.theirs@example.org');
  assert.equal(await page.locator('#patient-phone').inputValue(), '+4915112345678');
  const stored = await patient(server, anna.id);
  assert.equal(stored.phone, '+4915112345678');
  // and the form now saves on top of their version without another 412
  await page.locator('#patient-name').fill('Anna M.');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expectText(page.locator('.patients-detail form [role=status]'), 'Saved.');
  const after = await patient(server, anna.id);
  assert.deepEqual([after.name, after.email], ['Anna M.', 'anna.theirs@example.org']);
});

test('the history lists the booked appointments newest first, in the clinic\'s zone; Book opens booking', async (t) => {
  const { server, doctor, anna, page } = await box(t);
  const slots = (await server.api('GET', `/api/doctors/${doctor.id}/available-slots`, undefined,
    { expect: 200 })).json.slots;
  assert.ok(slots.length > 40, 'free slots this week');
  const early = await server.book(doctor, anna, slots[2].start, { reason: 'Check-up' });
  const later = await server.book(doctor, anna, slots[40].start);
  await server.api('POST', `/api/appointments/${later.id}/cancel`, { reason: 'ill' }, { expect: 200 });

  await page.goto(server.url(`/#/patients?id=${anna.id}`));
  const rows = page.locator('.patients-history tbody tr');
  await expectText(page.locator('.patients-history'), 'Check-up');
  assert.equal(await rows.count(), 2);
  // the clock time as the clinic (Berlin) sees it, not the browser (New York),
  // in the browser's locale (en-GB, the harness's)
  const clock = (iso) => new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit',
    minute: '2-digit' }).format(new Date(iso)).replace(/\s/g, ' ');
  const text = async (i) => (await rows.nth(i).textContent()).replace(/\s/g, ' ');
  const newest = await text(0);
  const oldest = await text(1);
  assert.ok(newest.includes(clock(later.start)), `${newest} has ${clock(later.start)}`);
  assert.ok(newest.includes('cancelled'), newest);
  assert.ok(oldest.includes(clock(early.start)) && oldest.includes('booked') && oldest.includes('Dr. Berta Brandt'),
    oldest);
  const day = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', month: 'long', day: 'numeric' })
    .format(new Date(early.start));
  assert.ok(oldest.includes(day), `${oldest} has the date written out (${day})`);
  await axeCheck(page, 'patients with history');

  await page.getByRole('button', { name: 'Book', exact: true }).click();
  await page.waitForURL((u) => u.hash === `#/book?patient=${anna.id}`);
  await page.locator('#patient-title').waitFor({ state: 'detached' });
  assert.equal(await page.locator('nav [aria-current=page]').textContent(), 'Book');
  await expectText(page.locator('main'), 'Anna Müller'); // the Book screen has her chosen
});

test('a patient named like markup is text on the screen, and no dialog opens', async (t) => {
  const { server, odd, page } = await box(t);
  await page.goto(server.url('/#/patients'));
  await page.getByLabel('Name, phone or email').fill('onerror');
  await expectResults(page, [XSS]);
  await page.getByRole('link', { name: XSS }).click();
  await expectText(page.locator('#patient-title'), XSS);
  assert.ok(page.url().endsWith(`id=${odd.id}`));
  assert.equal(await page.locator('#patient-name').inputValue(), XSS);
  assert.equal(await page.locator('main img').count(), 0, 'no element was made from the name');
  await screenshot(page, 'markup-name');
});

test('admin deletes a patient after an inline confirmation; one with appointments is refused', async (t) => {
  const { server, doctor, anna, bruno, page } = await box(t, 'admin');
  const slot = (await server.api('GET', `/api/doctors/${doctor.id}/available-slots`)).json.slots[0];
  await server.book(doctor, anna, slot.start);

  await page.goto(server.url(`/#/patients?id=${anna.id}`));
  await expectText(page.locator('#patient-title'), 'Anna Müller');
  await page.getByRole('button', { name: 'Delete this patient…' }).click();
  await expectText(page.locator('.patients-confirm'), 'Delete Anna Müller for good?');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Yes, delete');
  await page.getByRole('button', { name: 'Yes, delete' }).click();
  await expectText(page.locator('.patients-delete [role=alert]'), 'appointments');
  await patient(server, anna.id); // still there

  await page.goto(server.url(`/#/patients?id=${bruno.id}`));
  await expectText(page.locator('#patient-title'), 'Bruno Berger');
  await page.getByRole('button', { name: 'Delete this patient…' }).click();
  await page.getByRole('button', { name: 'No, keep' }).click();
  assert.equal(await page.locator('.patients-confirm').count(), 0);
  await page.getByRole('button', { name: 'Delete this patient…' }).click();
  await axeCheck(page, 'patients delete confirmation');
  await screenshot(page, 'admin-delete');
  await page.getByRole('button', { name: 'Yes, delete' }).click();
  await expectText(page.locator('.patients > [role=status]'), 'Bruno Berger was deleted.');
  await page.waitForURL((u) => u.hash === '#/patients');
  await expectResults(page, [XSS, 'Anna Müller']);
  assert.equal((await server.api('GET', `/api/patients/${bruno.id}`)).status, 404);
});
