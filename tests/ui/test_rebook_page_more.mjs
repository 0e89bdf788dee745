/*
 * The patient's rebooking page (web/rebook.html) beyond the basics of
 * test_rebook_page.mjs: the German page for a German browser (and the
 * clinic's language for a browser in neither language), the calendar file
 * of the new appointment, a time taken meanwhile, a link used in another
 * tab, and an expired link, each in plain words with what the patient can
 * still do; a small phone in every state; and that the page's catalogue
 * (web/rebook-i18n.js) is complete in both languages.
 *
 * The box runs on a faked clock: Monday 30 Nov 2026 08:05 in Berlin; the
 * appointment to move is at 15:00 that day, and its offer proposes three
 * times (09:15, 09:30, 09:45). Tests without clinic settings of their own
 * share one box, in file order, each with its own patient and appointment
 * (15:00, 15:30, 16:00, ...), and expect the times their offer proposed
 * (the earlier tests took some). The link's token comes from the database,
 * where it waits with the offer's unsent message (no mail or SMS is
 * configured), as the patient would have it from the message.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';

import {
  FAKETIME_LIB, WEB_DIR, assertNoHorizontalScroll, axeCheck, defer, expectText, newPage, screenshot, startServer,
} from './harness.mjs';

const NOW = '2026-11-30 07:05:00'; // Mon 08:05 Berlin
const PHONE = { viewport: { width: 320, height: 568 }, isMobile: true, hasTouch: true };

/* One box for the tests that need no clinic settings of their own (a
 * server's start and stop take seconds); made by the first test that asks. */
let shared = null;
let booked = 0; // appointments on the shared box
after(async () => {
  if (shared) await shared.server.shutdown();
});

/* A patient of the test's own with an appointment today (15:00 for the
 * first, then 15:30, 16:00, ...) and an offer of three times for it, on the
 * shared box; with clinic settings (offer_hours, language), on a box of its
 * own. {server, doctor, patient, appointment, offer, token}. */
async function offered(t, { offerHours, language } = {}) {
  let server;
  let doctor;
  let patient;
  let at = '15:00';
  if (offerHours || language) {
    server = await startServer(t, { faketime: NOW });
    ({ doctor, patient } = await server.seed());
    const clinic = {};
    if (offerHours) clinic.offer_hours = offerHours;
    if (language) clinic.language = language;
    await server.api('PUT', '/api/clinic', clinic, { expect: 200 });
  } else {
    if (!shared) {
      const s = await startServer(null, { faketime: NOW });
      shared = { server: s, ...(await s.seed()) };
      patient = shared.patient;
    } else {
      const n = ++booked;
      patient = await shared.server.addPatient({ name: `Rita Patient ${n}`, email: `rita${n}@example.org` });
      at = `${15 + Math.floor(n / 2)}:${n % 2 ? '30' : '00'}`;
    }
    ({ server, doctor } = shared);
  }
  const appointment = await server.book(doctor, patient, `2026-11-30T${at}:00+01:00`);
  const { offer, token } = await server.offer(appointment, 3);
  return { server, doctor, patient, appointment, offer, token };
}

/* "09:30–09:45": a slot's times in Berlin, as the page writes them in English. */
function hours(slot) {
  const f = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', timeZone: 'Europe/Berlin' });
  return `${f.format(new Date(slot.start))}–${f.format(new Date(slot.end))}`;
}

async function open(t, server, token, opts = {}) {
  const page = await newPage(t, server, { clock: 'server', ...opts });
  await page.goto(server.url(`/rebook#${token}`));
  return page;
}

/* An ICS date-time in UTC ("20261130T083000Z") of an API time. */
function icsUtc(iso) {
  return new Date(iso).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

test('a German browser gets the German page, times written out in Berlin', async (t) => {
  const { server, offer, token } = await offered(t);
  const page = await open(t, server, token, { locale: 'de-DE', ...PHONE });
  await page.locator('#options').waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'de');
  await expectText(page.locator('h1'), 'Neuen Termin wählen');
  await expectText(page.locator('.current'), 'Ihr Termin bei Dr. Berta Brandt ist am Montag, 30. November 2026');
  await expectText(page.locator('#current'), '15:00–15:15');
  const labels = await page.locator('#options label').allTextContents();
  assert.deepEqual(labels.map((l) => l.trim()), [
    '1) Montag, 30. November 2026, 09:15–09:30 Uhr',
    '2) Montag, 30. November 2026, 09:30–09:45 Uhr',
    '3) Montag, 30. November 2026, 09:45–10:00 Uhr',
  ]);
  assert.equal(offer.options.length, 3);
  assert.ok(await page.getByRole('button', { name: 'Diese Zeit bestätigen' }).isVisible());
  await assertNoHorizontalScroll(page);
  await axeCheck(page, 'rebook (de)');
  await screenshot(page, 'german-phone');
  await page.getByLabel(/^2\) /).check();
  await page.getByRole('button', { name: 'Diese Zeit bestätigen' }).click();
  await expectText(page.locator('h1'), 'Ihr Termin ist gebucht');
  await expectText(page.locator('#booked'), 'Ihr neuer Termin: Montag, 30. November 2026, 09:30–09:45 Uhr bei Dr. Berta Brandt, Praxis Sonnenschein.');
  await assertNoHorizontalScroll(page);
  await axeCheck(page, 'rebook booked (de)');
  await screenshot(page, 'german-phone-booked');
});

test('a browser in neither language follows the clinic\'s setting, else English', async (t) => {
  const { server, token } = await offered(t, { language: 'de' });
  const fr = await open(t, server, token, { locale: 'fr-FR' });
  await expectText(fr.locator('h1'), 'Neuen Termin wählen');
  const en = await open(t, server, token, { locale: 'en-US' });
  await expectText(en.locator('h1'), 'Pick a new appointment time');
  await server.api('PUT', '/api/clinic', { language: 'auto' }, { expect: 200 });
  const fr2 = await open(t, server, token, { locale: 'fr-FR' });
  await expectText(fr2.locator('h1'), 'Pick a new appointment time');
  await fr2.locator('#options').waitFor();
});

test('confirming a time shows the new appointment and its calendar file', async (t) => {
  const { server, patient, appointment, offer, token } = await offered(t);
  const page = await open(t, server, token, { acceptDownloads: true, ...PHONE });
  await page.getByLabel(/^3\) /).check();
  await page.getByRole('button', { name: 'Confirm this time' }).click();
  await expectText(page.locator('h1'), 'You are booked');
  await expectText(page.locator('#new-time'), `Monday, 30 November 2026, ${hours(offer.options[2])}`);
  // the server moved the appointment to option 3
  const old = (await server.api('GET', `/api/appointments/${appointment.id}`, undefined, { expect: 200 })).json;
  assert.equal(old.status, 'rescheduled');
  const now = (await server.api('GET', `/api/appointments/${old.rescheduled_to}`, undefined, { expect: 200 })).json;
  assert.equal(now.patient_id, patient.id);
  assert.equal(Date.parse(now.start), Date.parse(offer.options[2].start));
  // the calendar file: a download (the page's CSP has no blob: in default-src;
  // a download is a navigation, which it does not govern)
  const link = page.getByRole('link', { name: 'Add to my calendar (.ics file)' });
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  assert.equal(download.suggestedFilename(), 'appointment.ics');
  const ics = fs.readFileSync(await download.path(), 'utf8');
  assert.match(ics, /^BEGIN:VCALENDAR\r?\n/);
  assert.match(ics, new RegExp(`\\r?\\nDTSTART:${icsUtc(offer.options[2].start)}\\r?\\n`));
  assert.match(ics, new RegExp(`\\r?\\nDTEND:${icsUtc(offer.options[2].end)}\\r?\\n`));
  await assertNoHorizontalScroll(page);
  await axeCheck(page, 'rebook: booked');
  await screenshot(page, 'booked-with-calendar');
});

test('a time taken meanwhile: said plainly, the times still free offered', async (t) => {
  const { server, doctor, offer, token } = await offered(t);
  const page = await open(t, server, token, PHONE);
  await page.locator('#options').waitFor();
  // someone books option 1 at the desk while the patient looks
  const other = await server.addPatient({ name: 'Otto Anders', email: 'otto@example.org' });
  await server.book(doctor, other, offer.options[0].start);
  await page.getByRole('button', { name: 'Confirm this time' }).click(); // option 1 is preselected
  await expectText(page.locator('#status'), 'Sorry, that time was taken by someone else just now. These times are still free:');
  const labels = await page.locator('#options label').allTextContents();
  assert.deepEqual(labels.map((l) => l.trim().slice(0, 2)), ['2)', '3)']);
  await assertNoHorizontalScroll(page);
  await axeCheck(page, 'rebook: taken');
  await screenshot(page, 'taken');
  await page.getByRole('button', { name: 'Confirm this time' }).click();
  await expectText(page.locator('h1'), 'You are booked');
  await expectText(page.locator('#new-time'), hours(offer.options[1]));
});

test('a link used in another tab is refused on the second try, in plain words', async (t) => {
  const { server, patient, offer, token } = await offered(t);
  const first = await open(t, server, token);
  const second = await open(t, server, token, PHONE);
  await first.locator('#options').waitFor();
  await second.locator('#options').waitFor();
  await first.getByRole('button', { name: 'Confirm this time' }).click();
  await expectText(first.locator('h1'), 'You are booked');
  await second.getByLabel(/^2\) /).check();
  await second.getByRole('button', { name: 'Confirm this time' }).click();
  await expectText(second.locator('#status'), 'This link has already been used: a new time was chosen with it.');
  // what it was used for, and no way to choose again
  await expectText(second.locator('#new-time'), hours(offer.options[0]));
  assert.equal(await second.locator('input[name=option]').count(), 0);
  await assertNoHorizontalScroll(second);
  await axeCheck(second, 'rebook: used');
  await screenshot(second, 'used');
  const booked = (await server.api('GET', `/api/appointments?patient_id=${patient.id}&status=booked`, undefined,
    { expect: 200 })).json.appointments;
  assert.equal(booked.length, 1);
});

test('an expired link says so and whom to call', async (t) => {
  // The box's clock is libfaketime's timestamp file, which the test moves
  // on while the box and the page keep running (same address, same tab).
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clinicbox-ft-'));
  defer(t, () => fs.rmSync(dir, { recursive: true, force: true }));
  const stamp = path.join(dir, 'faketime');
  fs.writeFileSync(stamp, '@' + NOW);
  const server = await startServer(t, { env: { LD_PRELOAD: FAKETIME_LIB, FAKETIME_TIMESTAMP_FILE: stamp,
    FAKETIME_NO_CACHE: '1' } });
  const { doctor, patient } = await server.seed();
  await server.api('PUT', '/api/clinic', { offer_hours: 1 }, { expect: 200 });
  const appointment = await server.book(doctor, patient, '2026-11-30T15:00:00+01:00');
  const { token } = await server.offer(appointment, 3);
  const at = Date.parse(NOW.replace(' ', 'T') + 'Z');

  // the page is open before the offer's hour is over ...
  const page = await newPage(t, server, PHONE);
  await page.clock.install({ time: at });
  await page.goto(server.url(`/rebook#${token}`));
  await page.locator('#options').waitFor();
  // ... and the patient confirms after it
  fs.writeFileSync(stamp, '@2026-11-30 08:30:00');
  await page.clock.fastForward('01:25:00');
  await page.getByRole('button', { name: 'Confirm this time' }).click();
  await expectText(page.locator('#status'), 'This link has expired: the times it offered are no longer kept for you. Please call Praxis Sonnenschein to arrange a new time.');
  assert.equal(await page.locator('input[name=option]').count(), 0);
  await assertNoHorizontalScroll(page);
  await axeCheck(page, 'rebook: expired');
  await screenshot(page, 'expired');
  // opened afresh in another browser, in German: expired too
  const fresh = await newPage(t, server, { locale: 'de-DE', ...PHONE });
  await fresh.clock.install({ time: at + 85 * 60_000 });
  await fresh.goto(server.url(`/rebook#${token}`));
  await expectText(fresh.locator('#status'), 'Dieser Link ist abgelaufen');
  assert.equal(await fresh.locator('input[name=option]').count(), 0);
  const old = (await server.api('GET', `/api/appointments/${appointment.id}`, undefined, { expect: 200 })).json;
  assert.equal(old.status, 'booked', 'nothing was moved');
});

test('a link whose appointment the clinic moved meanwhile says so and whom to call', async (t) => {
  const { server, appointment, offer, token } = await offered(t);
  // the patient phoned; the desk moved the appointment to option 2
  await server.api('POST', `/api/appointments/${appointment.id}/rebook`, { start: offer.options[1].start },
    { expect: 201 });
  const page = await open(t, server, token, PHONE);
  await expectText(page.locator('#status'), 'This appointment can no longer be moved with this link. Please call Praxis Sonnenschein.');
  await expectText(page.locator('.current'), `Your appointment with Dr. Berta Brandt on Monday, 30 November 2026, ${hours(appointment)} has been moved by the clinic.`);
  assert.equal(await page.locator('input[name=option]').count(), 0);
  await axeCheck(page, 'rebook: moved by the clinic');
});

test('the page\'s catalogue: the same keys and placeholders in English and German, every key it uses', async () => {
  const src = fs.readFileSync(path.join(WEB_DIR, 'rebook-i18n.js'), 'utf8');
  const { TEXT } = await import('data:text/javascript;base64,' + Buffer.from(src).toString('base64'));
  const holes = (v) => [...v.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
  assert.deepEqual(Object.keys(TEXT).sort(), ['de', 'en']);
  assert.deepEqual(Object.keys(TEXT.de).sort(), Object.keys(TEXT.en).sort());
  for (const [k, v] of Object.entries(TEXT.en)) {
    assert.ok(v.trim() && TEXT.de[k].trim(), `empty string for ${k}`);
    assert.deepEqual(holes(TEXT.de[k]), holes(v), `placeholders of ${k}`);
  }
  const code = fs.readFileSync(path.join(WEB_DIR, 'rebook.js'), 'utf8');
  // tr("key"), trNodes("key", ...), and the keys currentLine() picks
  const used = [...code.matchAll(/\b(?:tr|trNodes)\(\s*"(\w+)"|\bkey = "(\w+)"/g)].map((m) => m[1] || m[2]);
  assert.ok(used.length > 10, 'the page asks for its words by key');
  assert.deepEqual(used.filter((k) => !(k in TEXT.en)), []);
});
