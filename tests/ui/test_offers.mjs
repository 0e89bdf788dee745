/*
 * The No-shows & offers screen (web/js/screens/offers.js, issue 11 item 3)
 * in headless Chromium, logged in as the front desk.
 *
 * The box runs on a faked clock. Four patients are booked for Tuesday
 * 1 Dec 2026 at 09:00, 09:15, 09:30 and 09:45 in Berlin; the box is stopped
 * and started again at 11:00, when its no-show worker catches up: each
 * becomes a no-show with an offer of three times (valid for an hour: the
 * clinic's offer_hours is 1) and an email and an SMS. The SMS go to a
 * Twilio stand-in (below), which refuses the first patient's number, so
 * that message is dead at once; that patient has no email address (email
 * skipped) and a name that is markup. The others' emails wait (no mail
 * server), their SMS are sent. The page's clock is the box's. The tests
 * run in order on this one box; the last restarts it past the offers'
 * expiry.
 *
 * Checked: what the screen shows (the offer's times written out in the
 * clinic's zone, the messages' states and errors); one-click rebook of
 * option 2 on a patient's behalf (through the API: the old appointment
 * rescheduled, the new one booked at option 2's time, by the desk user);
 * a time taken meanwhile (409, its alternative one click away); resending
 * a dead SMS; a patient's own choice through the link appearing by itself;
 * an expired offer and a new one; axe, weight, screenshots; no dialog.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';

import {
  assertNoHorizontalScroll, assertWeight, axeCheck, expectText, holdBackgroundPolls, loginCookie, newPage, screenshot,
  sqlQuote, startServer, until,
} from './harness.mjs';

const XSS = '<img src=x onerror=alert(1)>';
const ZONE = 'Europe/Berlin';
const BAD_PHONE = '+4915100000001';

/* -- a Twilio Messages API stand-in -------------------------------------------- */

/* Accepts every SMS (201 with a sid) except to numbers in `refuse`, which
 * get Twilio's 400 "not a valid phone number" (21211): a permanent
 * refusal, so the message is dead at once. Records each request's To. */
async function twilioStandIn() {
  const sms = { refuse: new Set(), to: [], port: 0 };
  sms.server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const form = new URLSearchParams(body);
      const to = form.get('To');
      sms.to.push(to);
      res.setHeader('Content-Type', 'application/json');
      if (sms.refuse.has(to)) {
        res.statusCode = 400;
        res.end(JSON.stringify({ code: 21211, status: 400,
          message: `The 'To' number ${to} is not a valid phone number.` }));
      } else {
        res.statusCode = 201;
        res.end(JSON.stringify({ sid: 'SM' + String(sms.to.length).padStart(32, '0'), status: 'queued', to }));
      }
    });
  });
  await new Promise((resolve) => sms.server.listen(0, '127.0.0.1', resolve));
  sms.port = sms.server.address().port;
  return sms;
}

function outboxEnv(sms) {
  return {
    CLINICBOX_PUBLIC_URL: 'https://praxis.example.org',
    CLINICBOX_TWILIO_ACCOUNT_SID: 'AC' + '1'.repeat(32),
    CLINICBOX_TWILIO_AUTH_TOKEN: 'test-auth-token',
    CLINICBOX_TWILIO_FROM: '+15005550006',
    CLINICBOX_TWILIO_BASE_URL: `http://127.0.0.1:${sms.port}`,
    CLINICBOX_OUTBOX_MAX_BACKOFF_SECONDS: '1',
    CLINICBOX_OUTBOX_TIMEOUT_SECONDS: '3',
    CLINICBOX_NOSHOW_INTERVAL_SECONDS: '1',
  };
}

/* -- helpers -------------------------------------------------------------------- */

async function offersOf(server, appointment) {
  const r = await server.api('GET', `/api/offers?appointment_id=${appointment.id}`, undefined, { expect: 200 });
  return r.json.offers;
}

async function smsOf(server, appointment) {
  const rows = await server.sql(`SELECT status FROM notifications WHERE appointment_id = ${sqlQuote(appointment.id)}
    AND channel = 'sms' AND offer_id IS NOT NULL`);
  return rows.map((r) => r.status);
}

/* The card of the patient named `name` on the screen. */
function card(page, name) {
  return page.locator('article.offers-item', { has: page.getByRole('heading', { name, exact: true }) });
}

/* The date and the time of an instant in the clinic's zone, as the UI's
 * own time.js writes them (the same module instance, in the UI's
 * language): "date|time". */
async function dateInClinic(page, iso) {
  return page.evaluate(async ([i, zone]) => {
    const { formatTime } = await import('/js/time.js');
    return formatTime(i, zone, 'date') + '|' + formatTime(i, zone, 'time');
  }, [iso, ZONE]);
}

/* -- the shared box ------------------------------------------------------------ */

let box; // {server, sms, desk, doctor, xss, bernd, carla, dora, a: {the four appointments}}

before(async () => {
  const sms = await twilioStandIn();
  sms.refuse.add(BAD_PHONE);
  const server = await startServer(null, { faketime: '2026-12-01 07:00:00', env: outboxEnv(sms) });
  const { doctor, patient: xss } = await server.seed({ patient: { name: XSS, phone: BAD_PHONE, email: undefined } });
  await server.api('PUT', '/api/clinic', { confirmations: false, offer_hours: 1 }, { expect: 200 });
  const bernd = await server.addPatient({ name: 'Bernd Beispiel', phone: '+4915100000002', email: 'bernd@example.org' });
  const carla = await server.addPatient({ name: 'Carla Castro', phone: '+4915100000003', email: 'carla@example.org' });
  const dora = await server.addPatient({ name: 'Dora Drost', phone: '+4915100000004', email: 'dora@example.org' });
  const a = {
    xss: await server.book(doctor, xss, '2026-12-01T09:00:00+01:00'),
    bernd: await server.book(doctor, bernd, '2026-12-01T09:15:00+01:00'),
    carla: await server.book(doctor, carla, '2026-12-01T09:30:00+01:00'),
    dora: await server.book(doctor, dora, '2026-12-01T09:45:00+01:00'),
  };
  const desk = await server.addUser('desk', 'front_desk');
  await server.stop();
  // Two hours later: the worker marks the four no-shows and offers.
  server.faketime = '2026-12-01 10:00:00';
  await server.start();
  await until('the dead SMS and the sent ones', async () =>
    (await smsOf(server, a.xss))[0] === 'dead' && (await smsOf(server, a.bernd))[0] === 'sent'
    && (await smsOf(server, a.carla))[0] === 'sent' && (await smsOf(server, a.dora))[0] === 'sent');
  box = { server, sms, desk, doctor, xss, bernd, carla, dora, a };
});

after(async () => {
  if (!box) return;
  box.sms.server.close();
  await box.server.shutdown();
});

async function openScreen(t) {
  const page = await newPage(t, box.server, { clock: 'server' });
  await loginCookie(page, box.desk.username, box.desk.password);
  await page.goto(box.server.url('/#/offers'));
  await card(page, 'Carla Castro').waitFor();
  return page;
}

/* -- the tests ------------------------------------------------------------------ */

test('the day\'s no-shows with their offers, times in the clinic\'s zone and message states', async (t) => {
  const page = await openScreen(t);
  const { server, a } = box;
  await assertWeight(page);
  // the markup name is a heading's text, nothing made of it
  const x = card(page, XSS);
  await expectText(x.locator('h2'), XSS);
  assert.equal(await page.locator('main img').count(), 0);
  await expectText(x, 'No-show');
  // the offer's three options, each written out in Berlin (the browser is in New York)
  const offer = (await offersOf(server, a.xss))[0];
  assert.equal(offer.options.length, 3);
  const options = x.locator('[data-option]');
  assert.equal(await options.count(), 3);
  for (let i = 0; i < 3; i++) {
    const [date, time] = (await dateInClinic(page, offer.options[i].start)).split('|');
    const text = await options.nth(i).textContent();
    assert.ok(text.includes(`Option ${i + 1}: ${date}, ${time}`), `${text} shows ${date}, ${time}`);
  }
  await expectText(x.locator('.offers-state'), 'Open');
  // its messages: the email skipped (no address), the SMS dead with Twilio's reason
  const email = x.locator('tr', { has: page.getByRole('rowheader', { name: 'Email' }) });
  const smsRow = x.locator('tr', { has: page.getByRole('rowheader', { name: 'SMS' }) });
  await expectText(email, 'skipped');
  await expectText(email, 'no email address');
  await expectText(smsRow, 'not delivered');
  await expectText(smsRow, '21211');
  assert.equal(await smsRow.getByRole('button', { name: 'Resend SMS' }).count(), 1);
  // another patient's: the email waits (no mail server), the SMS went out
  const b = card(page, 'Bernd Beispiel');
  await expectText(b.locator('tr', { hasText: 'Email' }), 'queued');
  await expectText(b.locator('tr', { hasText: 'SMS' }), 'sent');
  assert.equal(await b.getByRole('button', { name: /Resend/ }).count(), 0);
  await axeCheck(page, 'offers');
  await screenshot(page, 'offers');

  // in German (the browser's language; the clinic's setting is auto), and
  // at 200% zoom on the 1024 px tablet (a 512 px wide layout): nothing
  // scrolls sideways
  const de = await newPage(t, server, { clock: 'server', locale: 'de-DE', viewport: { width: 512, height: 384 } });
  await loginCookie(de, box.desk.username, box.desk.password);
  await de.goto(server.url('/#/offers'));
  await expectText(de.locator('h1'), 'Nicht erschienen & Angebote');
  const dx = card(de, XSS);
  await expectText(dx.locator('.offers-appt'), 'Nicht erschienen');
  await expectText(dx.locator('[data-option="1"]'), 'Termin 1: Dienstag, 1. Dezember 2026');
  await expectText(dx.locator('tr', { hasText: 'SMS' }), 'nicht zugestellt (aufgegeben)');
  // the gateway's English error is marked as English in the German screen (WCAG 3.1.2)
  assert.match(await dx.locator('tr', { hasText: 'SMS' }).locator('td[lang="en"]').textContent(), /21211/);
  assert.equal(await dx.getByRole('button', { name: 'SMS erneut senden' }).count(), 1);
  await assertNoHorizontalScroll(de);
  await axeCheck(de, 'offers (de, 200%)');
  await screenshot(de, 'offers-de-zoom');
});

test('a dead SMS is resent and shows as sent', async (t) => {
  const page = await openScreen(t);
  const { server, sms, a } = box;
  const x = card(page, XSS);
  const smsRow = x.locator('tr', { has: page.getByRole('rowheader', { name: 'SMS' }) });
  await expectText(smsRow, 'not delivered');
  sms.refuse.clear(); // the patient's number works now
  const sent = sms.to.filter((to) => to === BAD_PHONE).length;
  await smsRow.getByRole('button', { name: 'Resend SMS' }).click();
  await expectText(x.getByRole('status'), 'The SMS is queued to be sent again.');
  // the next poll shows it sent, with no button left
  await expectText(smsRow.locator('.badge'), /^\s*sent\s*$/, { timeout: 15_000 });
  assert.equal(await smsRow.getByRole('button').count(), 0);
  assert.equal(sms.to.filter((to) => to === BAD_PHONE).length, sent + 1);
  assert.deepEqual(await smsOf(server, a.xss), ['sent']);
  await screenshot(page, 'resent');
});

test('one click rebooks option 2 for the patient; a time taken meanwhile offers its alternatives', async (t) => {
  const page = await openScreen(t);
  const { server, a } = box;
  const offer = (await offersOf(server, a.bernd))[0];
  const b = card(page, 'Bernd Beispiel');
  await b.getByRole('button', { name: 'Rebook option 2 for the patient' }).waitFor();
  // a poll that began before the rebook and answers after it (its offers
  // answer fetched at once, while the offer is open, and delivered later)
  // must not undo the rebook on screen
  const releasePolls = await holdBackgroundPolls(page, '/api/offers');
  await b.getByRole('button', { name: 'Rebook option 2 for the patient' }).click();
  await expectText(b.getByRole('status'), 'Rebooked: Bernd Beispiel is now booked for');
  // the pressed button is gone: the focus is on the card's heading, not lost to <body>
  assert.equal(await page.evaluate(() => document.activeElement.id), `offers-appt-${a.bernd.id}`);
  await expectText(b, 'Moved to');
  await expectText(b.locator('.offers-state'), 'Closed');
  await releasePolls(); // the held answers arrive now
  assert.match(await b.locator('.offers-state').textContent(), /Closed/, 'a late poll undid the rebook');
  assert.equal(await b.getByRole('button', { name: /Rebook option/ }).count(), 0);
  // through the API: the old one rescheduled, the new one booked at option 2, by the desk
  const old = (await server.api('GET', `/api/appointments/${a.bernd.id}`, undefined, { expect: 200 })).json;
  assert.equal(old.status, 'rescheduled');
  assert.equal(old.updated_by, 'user:desk');
  const moved = (await server.api('GET', `/api/appointments/${old.rescheduled_to}`, undefined, { expect: 200 })).json;
  assert.equal(moved.status, 'booked');
  assert.equal(moved.patient_id, box.bernd.id);
  assert.equal(Date.parse(moved.start), Date.parse(offer.options[1].start));
  assert.equal(moved.created_by, 'user:desk');

  // the same time for another patient (same doctor, same options): 409 with alternatives
  const x = card(page, XSS);
  await x.getByRole('button', { name: 'Rebook option 2 for the patient' }).click();
  const alert = x.getByRole('alert');
  await expectText(alert, 'already booked');
  await axeCheck(page, 'offers: slot taken');
  await screenshot(page, 'slot-taken');
  const alt = alert.getByRole('button', { name: /^Rebook to / });
  assert.ok(await alt.count() >= 1, 'at least one alternative');
  await alt.first().click();
  await expectText(x.getByRole('status'), 'is now booked for');
  const xold = (await server.api('GET', `/api/appointments/${a.xss.id}`, undefined, { expect: 200 })).json;
  assert.equal(xold.status, 'rescheduled');
  const xnew = (await server.api('GET', `/api/appointments/${xold.rescheduled_to}`, undefined, { expect: 200 })).json;
  assert.equal(xnew.status, 'booked');
  assert.notEqual(Date.parse(xnew.start), Date.parse(offer.options[1].start));
});


test('a patient\'s choice through the link shows by itself', async (t) => {
  const page = await openScreen(t);
  const { server, a } = box;
  const c = card(page, 'Carla Castro');
  await expectText(c.locator('.offers-state'), 'Open');
  // the token waits with Carla's unsent email (no mail server)
  const [{ link_token: token }] = await server.sql(`SELECT DISTINCT link_token FROM notifications
    WHERE appointment_id = ${sqlQuote(a.carla.id)} AND link_token IS NOT NULL`);
  const r = await server.api('POST', '/api/offer-link/rebook', { offer_token: token, option: 1 }, { auth: false });
  assert.equal(r.status, 200, r.text);
  // no reload: the screen's poll brings it
  await expectText(c.locator('.offers-state'), 'The patient took option 1', { timeout: 15_000 });
  await expectText(c, 'Moved to');
  const chosen = c.locator('[data-option="1"]');
  await expectText(chosen, '(chosen)');
  assert.equal(await c.getByRole('button', { name: /Rebook option/ }).count(), 0);
});

test('an expired offer: a new one is one click', async (t) => {
  const { server, a } = box;
  // past the offers' hour
  await server.stop();
  server.faketime = '2026-12-01 11:05:00';
  await server.start();
  const page = await newPage(t, server, { clock: 'server' });
  await loginCookie(page, box.desk.username, box.desk.password);
  await page.goto(server.url('/#/offers'));
  const d = card(page, 'Dora Drost');
  await expectText(d.locator('.offers-state'), 'Expired');
  // staff may still book an expired offer's times that are still ahead
  // (11:15 and 11:30 UTC of 11:00, 11:15, 11:30), not the past one
  const [expired] = await offersOf(server, a.dora);
  const ahead = expired.options.filter((o) => Date.parse(o.start) > server.now() + 60_000);
  assert.equal(ahead.length, 2, JSON.stringify(expired.options));
  assert.deepEqual(await d.locator('[data-option]:has(button)').evaluateAll((els) => els.map((e) => Number(e.dataset.option))),
    ahead.map((o) => o.option));
  await d.getByRole('button', { name: 'Make a new offer' }).click();
  await expectText(d.getByRole('status'), 'Offer made');
  assert.equal(await page.evaluate(() => document.activeElement.id), `offers-appt-${a.dora.id}`);
  await expectText(d.locator('[data-state="open"] .offers-state'), 'Open');
  assert.equal(await d.locator('[data-offer]').count(), 2);
  assert.equal(await d.getByRole('button', { name: 'Make a new offer' }).count(), 0);
  // only the newest offer's times are booked from here
  assert.equal(await d.locator('[data-state="open"]').getByRole('button', { name: /Rebook option/ }).count(), 3);
  assert.equal(await d.locator('[data-state="expired"]').getByRole('button').count(), 0);
  const offers = await offersOf(server, a.dora);
  assert.equal(offers.length, 2);
  const fresh = offers.find((o) => Date.parse(o.expires_at) > server.now());
  assert.ok(fresh, JSON.stringify(offers));
  assert.equal(fresh.options.length, 3);
  await axeCheck(page, 'offers: expired and new');
  await screenshot(page, 'expired-and-new');
});
