/*
 * The Messages screen (web/js/screens/messages.js, issue 11): the outbox as
 * the front desk sees it, with states, attempts, the last error and "Send
 * again" for a message that was given up.
 *
 * The box's email goes to a small SMTP server (smtp_sink.mjs) that refuses
 * the patient's address with 550, so every email to the patient is `dead`
 * at its first attempt; SMS is not configured, so SMS messages wait
 * (`queued`). The patient is named `<img src=x onerror=alert(1)>`: the
 * screen shows that as text and no dialog opens (the harness fails the test
 * on any dialog). Two appointments: the first one's confirmation is sent
 * again from the screen once the mail server takes the address, and reaches
 * it; the second one is offered new times, the offer's email dies, and the
 * patient then books from the link, so the dead offer email's link is no
 * longer stored: "Send again" on it is refused (409), and the refusal's
 * detail shows next to that message. Real clock; the appointments are at
 * free slots at least three hours ahead, as the API lists them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  assertNoHorizontalScroll, assertWeight, axeCheck, defer, expectText, holdBackgroundPolls, loginCookie, newPage, screenshot,
  startServer, until,
} from './harness.mjs';
import { SmtpSink } from './smtp_sink.mjs';

const XSS = '<img src=x onerror=alert(1)>';
const GONE = 'gone@example.org';

async function notes(server, query = '') {
  return (await server.api('GET', `/api/notifications${query}`, undefined, { expect: 200 })).json.notifications;
}

test('the outbox: dead and queued messages, a refused retry at its row, a retry that is sent', async (t) => {
  const sink = await new SmtpSink({ reject: [GONE] }).start();
  defer(t, () => sink.stop());
  const server = await startServer(t, {
    env: { ...sink.env(), CLINICBOX_PUBLIC_URL: 'https://praxis.example.org',
      CLINICBOX_OUTBOX_MAX_BACKOFF_SECONDS: '1', CLINICBOX_OUTBOX_TIMEOUT_SECONDS: '3' },
  });
  const { doctor, patient } = await server.seed({ patient: { name: XSS, email: GONE } });

  const soon = Date.now() + 3 * 3600_000;
  const slots = (await server.api('GET', `/api/doctors/${doctor.id}/available-slots?to=${
    new Date(Date.now() + 6 * 86400_000).toISOString().slice(0, 10)}`, undefined, { expect: 200 }))
    .json.slots.filter((s) => Date.parse(s.start) > soon);
  assert.ok(slots.length > 20, 'free slots ahead');
  const first = await server.book(doctor, patient, slots[0].start);
  const second = await server.book(doctor, patient, slots[10].start);
  const { token } = await server.offer(second, 3);

  // every email to the patient dies at once; the SMS ones wait
  const dead = await until('three dead emails', async () => {
    const d = await notes(server, '?status=dead');
    return d.length >= 3 && d;
  });
  const firstConf = dead.find((n) => n.appointment_id === first.id && n.purpose === 'confirmation');
  const offerMail = dead.find((n) => n.appointment_id === second.id && n.purpose === 'reschedule_offer');
  assert.ok(firstConf && offerMail, JSON.stringify(dead));
  assert.match(firstConf.last_error || '', /550|No such user/);
  const queued = await notes(server, '?status=queued');
  assert.ok(queued.some((n) => n.channel === 'sms'), 'SMS messages wait: no SMS provider');

  // the patient books a new time from the offer's link: its dead email
  // keeps no link any more
  await server.api('POST', '/api/offer-link/rebook', { offer_token: token, option: 1 },
    { auth: false, expect: 200 });

  const desk = await server.addUser('desk', 'front_desk');
  const page = await newPage(t, server);
  const polls = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.pathname === '/api/notifications')
      polls.push({ status: u.searchParams.get('status') || '', background: r.headers()['clinicbox-background'] || '' });
  });
  await loginCookie(page, desk.username, desk.password);
  await page.goto(server.url('/#/messages'));
  await expectText(page.locator('h1'), 'Messages');

  // all messages: the SMS waits, the dead email says why
  const smsRow = page.locator(`tr[data-id="${queued.find((n) => n.channel === 'sms').id}"]`);
  await expectText(smsRow, 'waiting');
  await expectText(smsRow, 'SMS');
  const firstRow = page.locator(`tr[data-id="${firstConf.id}"]`);
  await expectText(firstRow, 'given up');
  await expectText(firstRow, 'Booking confirmation');
  await expectText(firstRow, firstConf.last_error);
  await expectText(firstRow, GONE);
  // the patient's name, as text, once looked up through the appointment
  await expectText(firstRow.locator('.msg-patient'), XSS);
  assert.equal(await page.locator('main img').count(), 0, 'the name is not markup');

  // only the dead ones
  await page.selectOption('#msg-status', 'dead');
  await expectText(page.locator('tbody'), 'New times for a moved appointment');
  const states = await page.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.status));
  assert.ok(states.length >= 3 && states.every((s) => s === 'dead'), states.join());
  await axeCheck(page, 'messages (dead)');
  await screenshot(page, 'messages-dead');
  // at 200% zoom of the 1024x768 tablet only the table scrolls sideways
  await page.setViewportSize({ width: 512, height: 384 });
  await assertNoHorizontalScroll(page);
  await axeCheck(page, 'messages (dead) at 200%');
  await page.setViewportSize({ width: 1024, height: 768 });

  // the offer's dead email cannot go again: the 409's detail at its row
  const offerRow = page.locator(`tr[data-id="${offerMail.id}"]`);
  await offerRow.getByRole('button', { name: /Send again/ }).click();
  const refusal = offerRow.locator('.field-error');
  await expectText(refusal, /\S/);
  const again = await server.api('POST', `/api/notifications/${offerMail.id}/retry`, undefined, { expect: 409 });
  assert.equal((await refusal.textContent()).trim(), again.json.detail);
  assert.equal(await offerRow.getByRole('button', { name: /Send again/ }).getAttribute('aria-describedby'),
    await refusal.getAttribute('id'));
  await axeCheck(page, 'messages (a refused retry)');

  // a poll that began before the retry and answers after it (held here:
  // fetched at once, while the message is still dead, delivered later) must
  // not bring the old row back
  const releasePolls = await holdBackgroundPolls(page, '/api/notifications');

  // the mail server takes the address now: sent again, it arrives
  sink.reject.delete(GONE);
  await firstRow.getByRole('button', { name: /Send again/ }).click();
  await expectText(page.locator('.messages .notice'), 'queued again');
  await firstRow.waitFor({ state: 'detached' }); // the list read again: no longer dead
  await releasePolls(); // the held answers arrive now
  assert.equal(await firstRow.count(), 0, 'a late poll brought the old row back');
  const sent = await until('the retried confirmation sent', async () =>
    (await notes(server, '?status=sent')).find((n) => n.id === firstConf.id));
  assert.ok(sent.sent_at);
  assert.ok(sink.messages.some((m) => m.rcpt.includes(GONE)), 'the mail server got it');
  await page.selectOption('#msg-status', 'sent');
  await expectText(page.locator(`tr[data-id="${firstConf.id}"]`), 'sent');
  assert.equal(await page.locator(`tr[data-id="${firstConf.id}"] button`).count(), 0, 'nothing to retry');
  await screenshot(page, 'messages-sent');

  // opening the screen and changing the filter are what the user did: they
  // keep the session (foreground); the timer's polls and a tab coming back
  // into view do not (background)
  assert.equal(polls[0].background, '', 'the first list request is the user\'s');
  for (const f of ['dead', 'sent'])
    assert.equal(polls.find((p) => p.status === f).background, '', `changing the filter to ${f}`);
  const before = polls.length;
  await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
  await until('a poll after the tab is visible again', async () => polls.length > before);
  assert.ok(polls.slice(before).every((p) => p.background === '1' && p.status === 'sent'), JSON.stringify(polls));
});

test('the Messages screen weighs under 200 KB and passes axe when empty', async (t) => {
  const server = await startServer(t);
  const page = await newPage(t, server);
  const desk = await server.addUser('desk', 'front_desk');
  await loginCookie(page, desk.username, desk.password);
  await page.goto(server.url('/#/messages'));
  await expectText(page.locator('main'), 'No messages yet.');
  await axeCheck(page, 'messages (empty)');
  await assertWeight(page);
});
