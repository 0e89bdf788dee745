/*
 * The Settings screen (web/js/screens/settings.js, issue 11) as an admin:
 * the clinic's settings (a change the API then has, a refused value with the
 * API's words next to its field), users (add a front-desk account, disable
 * it, the last admin's 409 at its row), API tokens (the secret shown once,
 * and it works until revoked), the TLS section, the audit trail's pages,
 * and the clinic's language switching the whole UI to German and back.
 *
 * The harness serves plain HTTP (tls = off), where the TLS section says
 * "TLS is off"; one test starts a box of its own with tls = on (its
 * self-signed certificate, made at start) and finds the fingerprint the
 * server printed at start in the section. The language test needs a box whose
 * GET /api/clinic has `language`; on one without it the screen leaves the
 * field out (a PUT would be refused), which the test checks instead.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  Server, assertNoHorizontalScroll, assertWeight, axeCheck, expectText, loginCookie, newPage,
  screenshot, sharedServer, startServer, until,
} from './harness.mjs';

const XSS = '<img src=x onerror=alert(1)>';

/* One box for the file (a server's stop takes two seconds): the clinic, a
 * doctor, a patient, the admin "boss". Each test has its own browser
 * context, names of its own (users, tokens), and leaves the clinic's
 * language as it found it. */
const shared = sharedServer({}, async (server) => {
  const seeded = await server.seed({ patient: { name: XSS } });
  const admin = await server.addUser('boss', 'admin');
  return { admin, ...seeded };
});

/* The admin logged in on #/settings, in a fresh page. */
async function open(t, opts) {
  const { server, admin } = shared;
  const page = await newPage(t, server, opts);
  await loginCookie(page, admin.username, admin.password);
  await page.goto(server.url('/#/settings'));
  await expectText(page.locator('h1'), 'Settings');
  await page.locator('#clinic-name').waitFor();
  return { ...shared, page };
}

const clinic = async (server) => (await server.api('GET', '/api/clinic', undefined, { expect: 200 })).json;

test('clinic: a change reaches the API; a refused value shows the API\'s words at its field', async (t) => {
  const { server, page } = await open(t);
  const section = page.locator('section.settings-clinic');
  assert.equal(await page.inputValue('#clinic-name'), 'Praxis Sonnenschein');
  assert.equal(await page.inputValue('#clinic-timezone'), 'Europe/Berlin');

  await page.fill('#clinic-name', `Praxis Nord ${XSS}`);
  await page.fill('#clinic-grace', '25');
  await page.fill('#clinic-reminders', '2, 48');
  await section.getByRole('button', { name: 'Save' }).click();
  await expectText(section.locator('.notice'), 'Saved.');
  let c = await clinic(server);
  assert.equal(c.name, `Praxis Nord ${XSS}`);
  assert.equal(c.grace_minutes, 25);
  assert.deepEqual(c.reminder_hours, [48, 2]);
  assert.equal(c.timezone, 'Europe/Berlin', 'a field not changed is not sent');
  assert.equal(await page.inputValue('#clinic-reminders'), '48, 2', 'the form shows what the box stored');

  // out of range: the box's 422, next to the field, and nothing changes
  await page.fill('#clinic-grace', '2000');
  await section.getByRole('button', { name: 'Save' }).click();
  const err = page.locator('#clinic-grace-error');
  await expectText(err, /\S/);
  const refused = await server.api('PUT', '/api/clinic', { grace_minutes: 2000 }, { expect: 422 });
  const words = refused.json.errors.find((e) => e.field === 'grace_minutes').message;
  assert.equal((await err.textContent()).trim(), words);
  assert.equal(await page.getAttribute('#clinic-grace', 'aria-invalid'), 'true');
  assert.match(await page.getAttribute('#clinic-grace', 'aria-describedby'), /clinic-grace-error/);
  assert.equal((await clinic(server)).grace_minutes, 25);
  await axeCheck(page, 'settings (a refused value)');
  await screenshot(page, 'settings-refused');

  // not a number: the box says so at the field too
  await page.fill('#clinic-grace', 'soon');
  await section.getByRole('button', { name: 'Save' }).click();
  await expectText(err, 'whole number');

  // a new zone: the shell's clinic follows at once (times elsewhere use it)
  await page.fill('#clinic-grace', '25');
  await page.selectOption('#clinic-timezone', 'America/New_York');
  await section.getByRole('button', { name: 'Save' }).click();
  await expectText(section.locator('.notice'), 'Saved.');
  c = await clinic(server);
  assert.equal(c.timezone, 'America/New_York');
  assert.equal(await page.locator('#clinic-grace-error').count(), 0);
});

test('clinic: a change another admin saved meanwhile is not overwritten; Reload shows it', async (t) => {
  const { server, page } = await open(t);
  const section = page.locator('section.settings-clinic');
  const before = await clinic(server);
  // another admin renames the clinic after this form was read
  await server.api('PUT', '/api/clinic', { name: 'Praxis Süd' }, { expect: 200 });
  t.after(() => server.api('PUT', '/api/clinic', { name: before.name }, { expect: 200 }));
  await page.fill('#clinic-name', 'Praxis West');
  await section.getByRole('button', { name: 'Save' }).click();
  await expectText(section.getByRole('alert'), 'changed meanwhile');
  assert.equal((await clinic(server)).name, 'Praxis Süd', 'the other admin\'s change stays');
  assert.doesNotMatch(await section.locator('.notice').textContent(), /Saved/);
  await section.getByRole('button', { name: 'Reload' }).click();
  await page.waitForFunction(() => document.querySelector('#clinic-name').value === 'Praxis Süd');
  // saved again on top of what is now there, it goes through
  await page.fill('#clinic-name', 'Praxis West');
  await section.getByRole('button', { name: 'Save' }).click();
  await expectText(section.locator('.notice'), 'Saved.');
  assert.equal((await clinic(server)).name, 'Praxis West');
});

test('users: add a front-desk account and disable it; the last admin stays', async (t) => {
  const { server, page, doctor } = await open(t);
  const section = page.locator('section.settings-users');
  await page.fill('#user-add-username', 'desk2');
  await page.selectOption('#user-add-role', 'front_desk');
  await page.fill('#user-add-password', 'Desk-password-2!long');
  await section.getByRole('button', { name: 'Add user' }).click();
  const row = section.locator('tr[data-user="desk2"]');
  await expectText(row, 'front desk');
  await expectText(section.locator('.notice'), 'desk2');
  let users = (await server.api('GET', '/api/users', undefined, { expect: 200 })).json;
  assert.deepEqual(users.filter((u) => u.username === 'desk2').map((u) => [u.role, u.disabled]),
    [['front_desk', false]]);
  // the new account logs in
  await server.api('POST', '/api/session', { username: 'desk2', password: 'Desk-password-2!long' },
    { auth: false, expect: 201 });

  await row.getByRole('button', { name: 'Disable the account desk2' }).click();
  await expectText(row.locator('.badge'), 'disabled');
  users = (await server.api('GET', '/api/users', undefined, { expect: 200 })).json;
  assert.equal(users.find((u) => u.username === 'desk2').disabled, true);
  const login = await server.api('POST', '/api/session', { username: 'desk2', password: 'Desk-password-2!long' },
    { auth: false });
  assert.notEqual(login.status, 201, 'a disabled account cannot log in');

  // a doctor's account names the doctor
  await page.selectOption('#user-add-role', 'doctor');
  await page.fill('#user-add-username', 'drb');
  await page.fill('#user-add-password', 'Doctor-password-3!long');
  await section.getByRole('button', { name: 'Add user' }).click();
  await expectText(section.locator('#user-add-doctor-error'), /\S/); // no doctor chosen: the API says so
  await page.selectOption('#user-add-doctor', doctor.id);
  await section.getByRole('button', { name: 'Add user' }).click();
  await expectText(section.locator('tr[data-user="drb"]'), doctor.name);

  // the only admin cannot be disabled: the box's 409 at the row
  const boss = section.locator('tr[data-user="boss"]');
  await boss.getByRole('button', { name: 'Disable the account boss' }).click();
  const refusal = boss.locator('.field-error');
  await expectText(refusal, /\S/);
  const r = await server.api('PATCH', '/api/users/boss', { disabled: true }, { expect: 409 });
  assert.equal((await refusal.textContent()).trim(), r.json.detail);

  // a new password for desk2, from its row
  await row.getByRole('button', { name: 'Change the account desk2' }).click();
  await page.fill('#user-edit-desk2-password', 'Another-password-4!long');
  await row.getByRole('button', { name: 'Save' }).click();
  await expectText(section.locator('.notice'), 'desk2 is changed');
  await row.getByRole('button', { name: 'Enable the account desk2' }).click();
  await expectText(row.locator('.badge'), 'active');
  await server.api('POST', '/api/session', { username: 'desk2', password: 'Another-password-4!long' },
    { auth: false, expect: 201 });

  // the sessions list has desk2's new session; ending it works
  await page.locator('section.settings-sessions').getByRole('button', { name: 'Reload' }).click();
  const end = page.locator('section.settings-sessions').getByRole('button', { name: /End session: desk2/ });
  await end.first().waitFor();
  const before = (await server.api('GET', '/api/sessions', undefined, { expect: 200 })).json
    .filter((s) => s.username === 'desk2').length;
  await end.first().click();
  await expectText(page.locator('section.settings-sessions .notice'), 'desk2');
  const after = (await server.api('GET', '/api/sessions', undefined, { expect: 200 })).json
    .filter((s) => s.username === 'desk2').length;
  assert.equal(after, before - 1);
  await axeCheck(page, 'settings (users)');
  await screenshot(page, 'settings-users');
});

test('tokens: the secret is shown once and works until revoked', async (t) => {
  const { server, page } = await open(t);
  const section = page.locator('section.settings-tokens');
  await page.fill('#token-add-name', 'backup');
  await page.selectOption('#token-add-role', 'front_desk');
  await section.getByRole('button', { name: 'Make token' }).click();
  const secretField = page.locator('#token-secret');
  await secretField.waitFor();
  const secret = await secretField.inputValue();
  assert.match(secret, /^cbx_[A-Za-z0-9_-]{43}$/);
  assert.equal(await secretField.evaluate((el) => el.readOnly), true);
  await expectText(section.locator('.secret-box'), 'shown only this once');
  const who = await server.api('GET', '/api/session', undefined,
    { auth: false, headers: { Authorization: `Bearer ${secret}` }, expect: 200 });
  assert.equal(who.json.role, 'front_desk');
  await server.api('GET', '/api/clinic', undefined,
    { auth: false, headers: { Authorization: `Bearer ${secret}` }, expect: 200 });
  await axeCheck(page, 'settings (a new token)');
  await screenshot(page, 'settings-token');

  await section.getByRole('button', { name: /I have stored it/ }).click();
  assert.equal(await page.locator('#token-secret').count(), 0);
  await page.reload();
  await page.locator('section.settings-tokens tr[data-token="backup"]').waitFor();
  assert.ok(!(await page.content()).includes(secret), 'the secret is never shown again');

  const row = page.locator('section.settings-tokens tr[data-token="backup"]');
  await row.getByRole('button', { name: 'Revoke the token backup' }).click();
  await row.getByRole('button', { name: /Really revoke backup/ }).click();
  await expectText(row.locator('.badge'), 'revoked');
  await server.api('GET', '/api/clinic', undefined,
    { auth: false, headers: { Authorization: `Bearer ${secret}` }, expect: 401 });
});

/* A box serving HTTPS with the self-signed certificate it makes at its
 * first start. Only what the harness's Server does over plain HTTP
 * changes: its address, and readiness read from the start line (which
 * also prints the fingerprint). Its own API calls go through the CLI. */
class TlsServer extends Server {
  constructor(opts = {}) {
    super({ ...opts, args: [...(opts.args || []), '--set', 'tls=on'] });
  }

  url(p = '/') {
    return `https://127.0.0.1:${this.port}${p}`;
  }

  ready(log) {
    const m = new RegExp(`serving on https://127\\.0\\.0\\.1:${this.port} .*fingerprint ([0-9A-F:]{95})`).exec(log);
    if (m) this.fingerprint = m[1];
    return Boolean(m);
  }
}

test('TLS on: the certificate\'s fingerprint as the server printed it', async (t) => {
  const server = await startServer(t, new TlsServer());
  const password = 'Tls-admin-password-1!';
  await server.cli(['user', 'add', '--username', 'tlsboss', '--role', 'admin'], { input: password + '\n' });
  const page = await newPage(t, server, { ignoreHTTPSErrors: true });
  await loginCookie(page, 'tlsboss', password);
  await page.goto(server.url('/#/settings?section=tls'));
  const section = page.locator('section.settings-tls');
  await expectText(section.locator('.fingerprint'), server.fingerprint);
  await expectText(section, 'CN=');
  await expectText(section, 'Self-signed');
  await expectText(section, 'browsers warn');
  // valid from today for ten years, written out in the clinic's zone
  await expectText(section, String(new Date().getUTCFullYear() + 10));
  await axeCheck(page, 'settings (TLS on)');
  await screenshot(page, 'settings-tls-on');
});

test('TLS off, and the audit trail pages from the newest entries', async (t) => {
  const { server, page } = await open(t);
  const tls = (await server.api('GET', '/api/tls', undefined, { expect: 200 })).json;
  assert.equal(tls.enabled, false, 'the harness serves plain HTTP');
  await expectText(page.locator('section.settings-tls'), 'TLS is off');

  // more than two pages of entries: patient reads are recorded
  const trail = async () => (await server.api('GET', '/api/audit?after=0&limit=1', undefined, { expect: 200 })).json.latest.seq;
  for (let i = await trail(); i <= 100; i++) await server.api('GET', `/api/patients?q=p${i}`, undefined, { expect: 200 });
  const before = await trail();
  // and an action of this admin through the screen
  await page.fill('#clinic-grace', '30');
  await page.locator('section.settings-clinic').getByRole('button', { name: 'Save' }).click();
  await expectText(page.locator('section.settings-clinic .notice'), 'Saved.');
  // its entry is written just after the answer: wait for it through the API
  const mineSeq = await until('the clinic change in the trail', async () => {
    const r = await server.api('GET', `/api/audit?after=${before}&limit=100`, undefined, { expect: 200 });
    const e = r.json.entries.find((x) => x.action === 'PUT /api/clinic' && x.actor === 'user:boss');
    return e && e.seq;
  }, { timeout: 10_000 });
  const seq = await trail(); // nothing else writes to the trail now

  const audit = page.locator('section.settings-audit');
  await audit.getByRole('button', { name: 'Newest' }).click();
  await expectText(audit.locator('[role=status]'), `Entries ${seq - 49} to ${seq} of ${seq}`);
  const mine = audit.locator('tbody tr', { has: page.locator('td:first-child', { hasText: new RegExp(`^${mineSeq}$`) }) });
  await expectText(mine, 'PUT /api/clinic');
  await expectText(mine, 'user:boss');
  await expectText(mine, '200');

  // the newest entry's seq and hash, as the API has that entry
  const head = await audit.locator('.audit-head').textContent();
  const [, headSeq, hash] = /--expect (\d+):([0-9a-f]{64})/.exec(head);
  assert.equal(Number(headSeq), seq);
  const entry = (await server.api('GET', `/api/audit?after=${seq - 1}&limit=1`, undefined, { expect: 200 }))
    .json.entries[0];
  assert.equal(entry.hash, hash);
  const seqs = async () => (await audit.locator('tbody tr td:first-child').allTextContents()).map(Number);
  let shown = await seqs();
  assert.equal(shown.length, 50);
  assert.equal(shown[49], seq, 'the newest page ends with the newest entry');

  await audit.getByRole('button', { name: 'Previous' }).click();
  await expectText(audit.locator('[role=status]'), `Entries ${seq - 99} to ${seq - 50} of ${seq}`);
  shown = await seqs();
  assert.equal(shown[0], seq - 99);
  assert.equal(shown[49], seq - 50);
  await audit.getByRole('button', { name: 'Oldest' }).click();
  await expectText(audit.locator('[role=status]'), `Entries 1 to 50 of ${seq}`);
  assert.equal((await seqs())[0], 1);
  assert.equal(await audit.getByRole('button', { name: 'Previous' }).isDisabled(), true);
  await audit.getByRole('button', { name: 'Next' }).click();
  await expectText(audit.locator('[role=status]'), `Entries 51 to 100 of ${seq}`);
  assert.equal((await seqs())[0], 51);
  await axeCheck(page, 'settings (audit)');
  await screenshot(page, 'settings-audit');
});

test('the language: German for everyone, then back', async (t) => {
  const { server, page } = await open(t);
  if (!('language' in (await clinic(server)))) {
    // a box without the setting: the field is left out, and a save works
    assert.equal(await page.locator('#clinic-language').count(), 0);
    await page.fill('#clinic-grace', '20');
    await page.locator('section.settings-clinic').getByRole('button', { name: 'Save' }).click();
    await expectText(page.locator('section.settings-clinic .notice'), 'Saved.');
    t.skip('this box has no clinic language setting yet');
    return;
  }
  await page.selectOption('#clinic-language', 'de');
  await page.locator('section.settings-clinic').getByRole('button', { name: 'Save' }).click();
  await expectText(page.locator('h1'), 'Einstellungen');
  assert.equal((await clinic(server)).language, 'de');
  assert.equal(await page.getAttribute('html', 'lang'), 'de');
  const menu = await page.locator('.topbar nav').textContent();
  for (const word of ['Nachrichten', 'Einstellungen']) assert.ok(menu.includes(word), menu);
  await expectText(page.locator('section.settings-clinic .notice'), 'Gespeichert.');
  await expectText(page.locator('section.settings-users'), 'Benutzer hinzufügen');
  await expectText(page.locator('#settings-audit'), 'Protokoll');
  await page.locator('.topbar nav').getByRole('link', { name: 'Nachrichten' }).click();
  await expectText(page.locator('h1'), 'Nachrichten');
  await expectText(page.locator('main'), 'Noch keine Nachrichten.');
  await axeCheck(page, 'messages in German');
  await screenshot(page, 'messages-de');

  await page.locator('.topbar nav').getByRole('link', { name: 'Einstellungen' }).click();
  // back to each browser's language (this one's is en-GB)
  await page.selectOption('#clinic-language', 'auto');
  await page.locator('section.settings-clinic').getByRole('button', { name: 'Speichern' }).click();
  await expectText(page.locator('h1'), 'Settings');
  assert.equal((await clinic(server)).language, 'auto');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
});

test('the Settings screen weighs under 200 KB, its menu moves the focus, 200% zoom', async (t) => {
  const { page } = await open(t);
  await expectText(page.locator('section.settings-audit [role=status]'), 'Entries');
  await page.locator('section.settings-users tbody tr').first().waitFor();
  await screenshot(page, 'settings');
  await assertWeight(page);
  // the in-page menu moves the focus to its section
  await page.getByRole('link', { name: 'API tokens' }).click();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'settings-tokens');
  assert.match(page.url(), /#\/settings\?section=tokens$/);

  // at 200% zoom of the 1024x768 tablet, nothing but the tables scrolls sideways
  await page.setViewportSize({ width: 512, height: 384 });
  await assertNoHorizontalScroll(page);
  await axeCheck(page, 'settings at 200%');
});
