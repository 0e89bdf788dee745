/*
 * The patient's rebooking page (web/rebook.html, issue 11 item 4) in
 * headless Chromium: the link from an offer opens it without a login, it
 * shows the clinic, the doctor and the offered times, books the one the
 * patient picks, and a used link books nothing more, in this browser or
 * another. Names are text, never markup; the page passes axe, weighs under
 * 200 KB and fits a 320 px phone.
 *
 * The box runs on a faked clock: Monday 30 Nov 2026 08:05 in Berlin (five
 * minutes into a slot, as tests/api/test_patient_link.py explains); the
 * appointment to move is at 15:00 that day. The link's token comes from the
 * database, where it waits with the offer's unsent message (no mail or SMS
 * is configured), as the patient would have it from the message.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  assertNoHorizontalScroll, assertWeight, axeCheck, expectText, newPage, screenshot, sharedServer, startServer,
} from './harness.mjs';

const NOW = '2026-11-30 07:05:00'; // Mon 08:05 Berlin
const XSS = '<img src=x onerror=alert(1)>';
const PHONE = { width: 320, height: 568 };

/* One box for the tests that need no names of their own (a server's stop
 * takes two seconds): the clinic, a doctor, a patient. */
const shared = sharedServer({ faketime: NOW }, (server) => server.seed());
let patients = 0;

/* A patient of the test's own with an appointment at `hour`:00 today, and
 * an offer of three other times for it; {server, patient, appointment,
 * offer, token}. With names, on a box of its own seeded with them. */
async function offered(t, hour, names) {
  let { server, doctor } = shared;
  let patient;
  if (names) {
    server = await startServer(t, { faketime: NOW });
    ({ doctor, patient } = await server.seed(names));
  } else {
    // with an address: the link's token waits only with a message to send
    const n = ++patients;
    patient = await server.addPatient({ name: `Rita Patient ${n}`, email: `rita${n}@example.org`,
      phone: `+49151123456${String(n).padStart(2, '0')}` });
  }
  const appointment = await server.book(doctor, patient, `2026-11-30T${hour}:00:00+01:00`);
  const { offer, token } = await server.offer(appointment, 3);
  return { server, patient, appointment, offer, token };
}

/* The patient's appointments that are booked. */
async function bookedOf(server, patient) {
  const r = await server.api('GET', '/api/appointments?from=2026-11-30&to=2026-12-01', undefined, { expect: 200 });
  return r.json.appointments.filter((a) => a.patient_id === patient.id && a.status === 'booked');
}

/* The start times the page offers, as the radio buttons' labels. */
async function optionLabels(page) {
  return page.locator('#options label').allTextContents();
}

test('the link books option 2; reloaded it shows the booking; another browser cannot book again', async (t) => {
  const { server, patient, appointment, offer, token } = await offered(t, 15);
  const page = await newPage(t, server);
  await page.goto(server.url(`/rebook#${token}`));
  await expectText(page.locator('legend'), 'Choose a new time');
  assert.equal(await page.locator('#clinic').textContent(), 'Praxis Sonnenschein');
  assert.equal(await page.locator('#doctor').textContent(), 'Dr. Berta Brandt');
  // the current appointment in the clinic's zone, not the browser's (New York)
  assert.match(await page.locator('#current').textContent(), /30 Nov.*15:00/);
  const labels = await optionLabels(page);
  assert.equal(labels.length, 3, labels.join(' | '));
  assert.match(labels[1], /^ ?2\) /);
  // the token left the address bar (it stays only in this tab's storage)
  assert.ok(!page.url().includes(token), page.url());
  await screenshot(page, 'offer');

  await page.getByLabel(/^ ?2\) /).check();
  await page.getByRole('button', { name: 'Confirm this time' }).click();
  await expectText(page.locator('h1'), 'You are booked');
  const booked = await expectText(page.locator('#booked'), 'Your new appointment: ');
  const chosenTime = labels[1].replace(/^ ?2\) /, '').trim();
  assert.ok(booked.includes(chosenTime), `${booked} names ${chosenTime}`);
  assert.equal(await page.locator('input[name=option]').count(), 0, 'no more choosing once booked');
  await screenshot(page, 'booked');

  // the server moved the appointment to option 2
  const moved = (await server.api('GET', `/api/appointments/${appointment.id}`, undefined, { expect: 200 })).json;
  assert.equal(moved.status, 'rescheduled');
  const list = await bookedOf(server, patient);
  assert.equal(list.length, 1, JSON.stringify(list));
  assert.equal(Date.parse(list[0].start), Date.parse(offer.options[1].start));

  // a reload (the token now only in sessionStorage) shows the booking as used
  await page.reload();
  await expectText(page.locator('#booked'), `Your new appointment: ${chosenTime}`);
  await expectText(page.locator('#status'), 'This link has already been used');
  assert.equal(await page.locator('input[name=option]').count(), 0);

  // the same link in another browser: the booking, and no way to book again
  const other = await newPage(t, server);
  await other.goto(server.url(`/rebook#${token}`));
  await expectText(other.locator('#booked'), `Your new appointment: ${chosenTime}`);
  assert.equal(await other.locator('input[name=option]').count(), 0);
  // and the API behind it refuses a second booking outright
  const again = await other.evaluate(async (tok) => {
    const r = await fetch('/api/offer-link/rebook', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ offer_token: tok, option: 1 }), credentials: 'omit',
    });
    return r.status;
  }, token);
  assert.ok(again >= 400 && again < 500, `a second booking: ${again}`);
  assert.deepEqual((await bookedOf(server, patient)).map((a) => a.id), list.map((a) => a.id));
});

test('names are shown as text: no markup, no script, no dialog', async (t) => {
  const { server, token } = await offered(t, 15, { clinic: XSS, doctor: XSS, patient: { name: XSS } });
  const page = await newPage(t, server);
  await page.goto(server.url(`/rebook#${token}`));
  await expectText(page.locator('legend'), 'Choose a new time');
  assert.equal(await page.locator('#clinic').textContent(), XSS);
  assert.equal(await page.locator('#doctor').textContent(), XSS);
  assert.equal(await page.locator('img').count(), 0, 'no element was made from a name');
  await page.getByRole('button', { name: 'Confirm this time' }).click();
  await expectText(page.locator('#booked'), `with ${XSS}, ${XSS}.`);
  assert.equal(await page.locator('img').count(), 0);
  // the guards (no dialog, no page error) are checked when the test ends
});

test('a small phone: fits 320 px, passes axe, loads under 200 KB', async (t) => {
  const { server, token } = await offered(t, 16);
  const page = await newPage(t, server, { viewport: PHONE, isMobile: true, hasTouch: true });
  await page.goto(server.url(`/rebook#${token}`));
  await expectText(page.locator('legend'), 'Choose a new time');
  await assertWeight(page);
  await assertNoHorizontalScroll(page);
  await axeCheck(page, 'rebook: offer');
  await screenshot(page, 'phone-offer');
  await page.getByRole('button', { name: 'Confirm this time' }).click();
  await expectText(page.locator('h1'), 'You are booked');
  await assertNoHorizontalScroll(page);
  await axeCheck(page, 'rebook: booked');
  await screenshot(page, 'phone-booked');
});

test('a link without its token, or with a wrong one, says so in plain words', async (t) => {
  const { server } = shared;
  const page = await newPage(t, server);
  await page.goto(server.url('/rebook'));
  await expectText(page.locator('#status'), 'This page needs the whole link from your message.');
  assert.equal(await page.locator('input[name=option]').count(), 0);
  const wrong = await newPage(t, server);
  await wrong.goto(server.url(`/rebook#${'A'.repeat(43)}`));
  await expectText(wrong.locator('#status'), 'This link does not work.');
  assert.equal(await wrong.locator('input[name=option]').count(), 0);
  await axeCheck(wrong, 'rebook: not valid');
  await screenshot(wrong, 'not-valid');
});
