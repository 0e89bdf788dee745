/*
 * test_session.mjs — a session that ends while a screen is open (idle
 * timeout, an admin ending it, a new password: to the page, any 401).
 * The screen stays, with what was typed in it, under a login dialog that
 * says why; the same user logs in again and carries on where they were;
 * another user gets a fresh screen of their own role. The session is ended
 * the way an admin does it (DELETE /api/sessions/{id}), so the test does
 * not wait 15 minutes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  axeCheck, expectText, holdBackgroundPolls, loginCookie, newPage, screenshot, startServer,
} from './harness.mjs';

/* Ends every session of `username`, as an admin does on Settings. */
async function endSessionsOf(server, username) {
  const list = (await server.api('GET', '/api/sessions', undefined, { expect: 200 })).json;
  const mine = list.filter((s) => s.username === username);
  assert.ok(mine.length > 0, `${username} has a session`);
  for (const s of mine) await server.api('DELETE', `/api/sessions/${s.id}`, undefined, { expect: 204 });
}

async function deskOnPatient(t) {
  const server = await startServer(t);
  const { patient } = await server.seed({ patient: { name: 'Anna Müller', phone: '+4915112345678' } });
  const desk = await server.addUser('desk', 'front_desk');
  const page = await newPage(t, server);
  await loginCookie(page, desk.username, desk.password);
  await page.goto(server.url(`/#/patients?id=${patient.id}`));
  await expectText(page.locator('#patient-title'), 'Anna Müller');
  return { server, patient, desk, page };
}

const dialog = (page) => page.getByRole('dialog', { name: 'Log in to clinicbox' });

test('the same user logs in again over the screen: the typed change is still there and saves', async (t) => {
  const { server, patient, desk, page } = await deskOnPatient(t);
  await page.locator('#patient-phone').fill('+4930123456');
  await endSessionsOf(server, desk.username);

  // the save is refused (401): the dialog says why, the screen is kept
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expectText(dialog(page), 'Your session has ended');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'login-title', 'the dialog has the focus');
  assert.equal(await page.locator('#patient-phone').inputValue(), '+4930123456', 'what was typed is kept');
  assert.equal(await page.locator('.shell').evaluate((el) => el.inert), true, 'the screen behind is inert');
  assert.equal(await page.locator('#patient-phone').isVisible(), false, 'and not shown: no patient data at a left desk');
  assert.equal(await dialog(page).getByLabel('User name').inputValue(), 'desk');
  await axeCheck(page, 'session ended: login dialog');
  await screenshot(page, 'relogin');
  assert.equal((await server.api('GET', `/api/patients/${patient.id}`, undefined, { expect: 200 })).json.phone,
    '+4915112345678', 'nothing was saved without a session');

  // a wrong password: the dialog stays and says so
  await dialog(page).getByLabel('Password').fill('not-the-password');
  await dialog(page).getByRole('button', { name: 'Log in' }).click();
  await expectText(dialog(page).getByRole('alert'), /\S/);

  await dialog(page).getByLabel('Password').fill(desk.password);
  await dialog(page).getByRole('button', { name: 'Log in' }).click();
  await dialog(page).waitFor({ state: 'detached' });
  assert.equal(await page.locator('.shell').evaluate((el) => el.inert), false);
  assert.ok(page.url().endsWith(`#/patients?id=${patient.id}`), page.url());
  assert.equal(await page.locator('#patient-phone').inputValue(), '+4930123456', 'still typed');
  assert.equal(await page.getByRole('button', { name: 'Save', exact: true }).evaluate((el) => el === document.activeElement),
    true, 'the focus is back on Save, where it was');

  // the change goes through now, with the new session's CSRF token
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expectText(page.locator('.patients-detail form [role=status]'), 'Saved.');
  assert.equal((await server.api('GET', `/api/patients/${patient.id}`, undefined, { expect: 200 })).json.phone,
    '+4930123456');
});

test('a session that ends while the screen only polls brings the dialog too; another user gets their own screens', async (t) => {
  const { server, desk, page } = await deskOnPatient(t);
  await page.goto(server.url('/#/today'));
  await page.getByRole('heading', { level: 1 }).waitFor();
  await endSessionsOf(server, desk.username);
  // no click: Today's own poll (every few seconds) meets the 401
  await expectText(dialog(page), 'Your session has ended');

  const admin = await server.addUser('boss', 'admin');
  await dialog(page).getByLabel('User name').fill(admin.username);
  await dialog(page).getByLabel('Password').fill(admin.password);
  await dialog(page).getByRole('button', { name: 'Log in' }).click();
  await dialog(page).waitFor({ state: 'detached' });
  await expectText(page.locator('.topbar .who'), 'boss');
  await page.waitForFunction(() => document.activeElement.matches('#main, #main h1'));
  // the admin's menu has Settings, which the front desk's has not
  await page.getByRole('navigation').getByRole('link', { name: 'Settings' }).waitFor();
});

test('a poll sent before the login again and answered after it does not end the new session', async (t) => {
  const { server, desk, page } = await deskOnPatient(t);
  await page.goto(server.url('/#/today'));
  await page.getByRole('heading', { level: 1 }).waitFor();
  await endSessionsOf(server, desk.username);
  await expectText(dialog(page), 'Your session has ended');
  // a poll of the day goes out with the ended session's cookie (401) and
  // its answer arrives only after the user has logged in again
  const release = await holdBackgroundPolls(page, '/api/appointments');
  await dialog(page).getByLabel('Password').fill(desk.password);
  await dialog(page).getByRole('button', { name: 'Log in' }).click();
  await dialog(page).waitFor({ state: 'detached' });
  await release();
  assert.equal(await dialog(page).count(), 0, 'the late 401 is about the old session');
  // the new session works for changes: a patient without a name is refused
  // for what it is (400), not for the session (401) or its CSRF token (403)
  const status = await page.evaluate(async () => {
    const { api } = await import('/js/api.js'); // the page's own module instance
    return (await api('POST', '/api/patients', { body: {} })).status;
  });
  assert.ok(status === 400 || status === 422, `POST /api/patients {} -> ${status}`);
});
