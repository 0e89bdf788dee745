/*
 * test_tour.mjs — the acceptance test of issue 11 ("Done when"), in
 * headless Chromium, through the UI alone: a new user opens the address
 * the server printed at start, creates the first admin in the first-run
 * setup, sets the clinic (name, Europe/Berlin) in Settings, adds two
 * doctors with their weekly hours in Doctors and a front-desk account in
 * Settings. The front desk (another browser) books from Book for new
 * patients added inline, checks a patient in from Today, and watches a
 * no-show turn into an offer by itself: Today shows the no-show and No-shows
 * & offers the offer with its messages, neither reloaded. The patient opens
 * the offer's link on a phone and takes a time; the desk's Today and
 * No-shows & offers then show the new appointment by themselves. The only
 * thing read outside the UI is the link's token (from the database, where
 * it waits with the offer's unsent SMS, as tests/ui/test_rebook_page.mjs
 * gets it); what the UI did is checked through the API as well.
 *
 * The clock: the box runs under libfaketime from 08:56:30 in Berlin on the
 * next working day (computed from the real clock). libfaketime reads the
 * offset from the real clock from a file (FAKETIME_TIMESTAMP_FILE), so the
 * test moves the box's clock while it runs: to 09:05:30, when the patient
 * of 09:00 who comes is checked in, then past 09:15, when the one who did
 * not come is past the 15-minute grace. It moves in steps of at most 290 s,
 * each seen by the no-show worker (it runs every second here) before the
 * next, because the clock guard holds the detector when the wall clock
 * jumps more than 5 minutes away from the monotonic one (docs/design.md).
 * The staff's pages run on the box's time (the harness's clock: 'server',
 * Playwright's clock) and move with it. A session ends after 15 minutes
 * without a request, and the screens' polls do not count: the desk's last
 * action before the no-show, the check-in, is 10 minutes before it.
 *
 * Screenshots: every step is kept in the artifacts directory; one of each
 * main screen (1024x768, the patient's page 390x844) is written to
 * docs/screenshots/<screen>.png when CLINICBOX_UPDATE_DOC_SCREENSHOTS=1
 * (README.md shows them).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import {
  FAKETIME_LIB, REPO, Server, assertClean, axeCheck, defer, expectText, loginPage, newPage, screenshot,
  sqlQuote, startServer, until,
} from './harness.mjs';
import { SmtpSink } from './smtp_sink.mjs';
import { berlinDay, berlinTime } from './today_util.mjs';

const ZONE = 'Europe/Berlin';
const CLINIC = 'Praxis am Stadtpark';
const WEISS = 'Dr. Katharina Weiß';
const OKAFOR = 'Dr. James Okafor';
const ADMIN = { username: 'chef', password: 'Stadtpark-Admin-2024!' };
const DESK = { username: 'empfang', password: 'Empfang-Tresen-7!long' };
const DOCS = path.join(REPO, 'docs', 'screenshots');
const UPDATE_DOCS = process.env.CLINICBOX_UPDATE_DOC_SCREENSHOTS === '1';
const STEP_MS = 290_000; // a clock step the guard accepts (under its 5 minutes)

/* -- the calendar and the clock */

/* The next Monday to Friday after today in Berlin. */
function nextWorkingDay() {
  let ms = Date.now();
  for (;;) {
    ms += 86_400_000;
    const day = berlinDay(ms);
    const wd = new Date(`${day}T12:00:00Z`).getUTCDay();
    if (wd >= 1 && wd <= 5) return day;
  }
}

/*
 * A box whose clock the test moves while it runs: libfaketime reads its
 * offset from the real clock ("+SECONDS") from a file, at every reading of
 * the clock (FAKETIME_NO_CACHE; else it would look again only every 10 s).
 * The monotonic clock stays real (the harness's FAKETIME_DONT_FAKE_MONOTONIC).
 * now() is the box's time, which the harness gives the pages' clocks.
 */
class MovableClockServer extends Server {
  constructor(startMs, opts) {
    super(opts);
    this.clockFile = path.join(this.data, 'faketime-offset');
    this.setOffset(Math.round((startMs - Date.now()) / 1000) * 1000);
  }

  setOffset(ms) {
    this.offset = ms;
    fs.writeFileSync(this.clockFile, `+${ms / 1000}\n`);
  }

  env() {
    const env = super.env();
    for (const k of ['FAKETIME', 'FAKETIME_SHARED', 'FAKETIME_CACHE_DURATION']) delete env[k];
    return Object.assign(env, {
      LD_PRELOAD: FAKETIME_LIB, FAKETIME_TIMESTAMP_FILE: this.clockFile, FAKETIME_NO_CACHE: '1',
    });
  }

  now() {
    return Date.now() + this.offset;
  }
}

async function health(server) {
  return (await server.api('GET', '/api/health', undefined, { expect: 200 })).json;
}

/*
 * Moves the box's clock (and the given pages' clocks) forward to `target`
 * in steps the clock guard accepts, each one seen by the no-show worker
 * before the next (its last run at or after the new time, not held).
 */
async function moveClockTo(server, pages, target) {
  while (server.now() < target - 1000) {
    const step = Math.min(STEP_MS, target - server.now());
    server.setOffset(server.offset + Math.round(step / 1000) * 1000);
    const due = server.now() - 1000;
    for (const p of pages) await p.clock.fastForward(Math.round(step / 1000) * 1000);
    let seen;
    await until(() => `the worker to see the new time: ${JSON.stringify(seen)}`, async () => {
      seen = (await health(server)).noshow;
      assert.equal(seen.held, false, `the no-show detector holds: ${seen.reason}`);
      return seen.last_run && Date.parse(seen.last_run) >= due;
    }, { timeout: 15_000 });
  }
}

/* -- screenshots and helpers */

/* The step's artifact (full page), and when asked for, the docs' picture
 * of the screen: the window as the user sees it, scrolled to the top or
 * to the element `at` selects. */
async function shoot(page, name, { doc, at } = {}) {
  await screenshot(page, name);
  if (UPDATE_DOCS && doc) {
    fs.mkdirSync(DOCS, { recursive: true });
    if (at) await page.locator(at).evaluate((e) => e.scrollIntoView({ block: 'start' }));
    else await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(DOCS, `${doc}.png`) });
  }
}

function nav(page, name) {
  return page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name, exact: true });
}

async function open(page, name, heading) {
  await nav(page, name).click();
  await expectText(page.locator('h1'), heading);
}

/* An appointment's card on Today. */
function todayCard(page, appointment) {
  return page.locator(`.today-appt[data-id="${appointment.id}"]`);
}

/* A patient's card on No-shows & offers. */
function offerCard(page, name) {
  return page.locator('article.offers-item', { has: page.getByRole('heading', { name, exact: true }) });
}

async function appointmentsOn(server, day) {
  const r = await server.api('GET', `/api/appointments?from=${day}&to=${day}`, undefined, { expect: 200 });
  return r.json.appointments;
}

/* -- the tour */

test('a new clinic from the first start to a no-show rebooked by the patient, through the UI', async (t) => {
  const day = nextWorkingDay();
  const sink = await new SmtpSink().start();
  defer(t, () => sink.stop());
  const server = await startServer(t, new MovableClockServer(berlinTime(day, '08:56:30'), {
    env: { ...sink.env(), CLINICBOX_SMTP_FROM: `${CLINIC} <praxis@example.org>`,
      CLINICBOX_PUBLIC_URL: 'https://praxis.example.org', CLINICBOX_OUTBOX_MAX_BACKOFF_SECONDS: '1' },
    args: ['--set', 'noshow_interval_seconds=1'],
  }));
  const address = /serving on (http:\/\/\S+)/.exec(server.log());
  assert.ok(address, `the start line names the address:\n${server.logTail()}`);

  // -- the first start: the address shows the first-run setup
  const admin = await newPage(t, server, { clock: 'server' });
  await admin.goto(address[1]);
  await expectText(admin.locator('h1'), 'create the first admin');
  await admin.locator('#setup-username').fill(ADMIN.username);
  await admin.locator('#setup-password').fill(ADMIN.password);
  await admin.locator('#setup-again').fill(ADMIN.password);
  await shoot(admin, 'setup', { doc: 'setup' });
  await admin.getByRole('button', { name: 'Create admin' }).click();
  await admin.locator('#setup-again').waitFor({ state: 'detached' });
  await expectText(admin.locator('.who'), `${ADMIN.username} (admin)`);

  // -- Settings: the clinic's name and zone
  await open(admin, 'Settings', 'Settings');
  const clinicForm = admin.locator('section.settings-clinic');
  await admin.locator('#clinic-name').fill(CLINIC);
  await admin.locator('#clinic-timezone').selectOption(ZONE);
  await clinicForm.getByRole('button', { name: 'Save' }).click();
  await expectText(clinicForm.locator('.notice'), 'Saved.');

  // -- Doctors: two doctors and their weekly hours
  await open(admin, 'Doctors', 'Doctors');
  const addDoctor = async (name, slot) => {
    await admin.locator('#new-doctor-name').fill(name);
    await admin.locator('#new-doctor-slot').fill(String(slot));
    await admin.getByRole('button', { name: 'Add doctor' }).click();
    await expectText(admin.locator('#doctor-title'), name);
  };
  const weekdays = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'];
  await addDoctor(WEISS, 15);
  for (const d of weekdays) {
    await admin.getByRole('button', { name: `Add hours (${d})` }).click();
    await admin.getByLabel(`${d}, hours 1, from`).fill('08:00');
    await admin.getByLabel(`${d}, hours 1, until`).fill(d === 'Wednesday' ? '12:00' : '16:00');
  }
  await admin.getByRole('button', { name: 'Save working hours' }).click();
  await expectText(admin.locator('.doctors-hours [role=status]'), 'Working hours saved.');
  await addDoctor(OKAFOR, 20);
  for (const d of weekdays) await admin.getByRole('button', { name: `Add hours (${d})` }).click(); // 09:00-17:00
  await admin.getByRole('button', { name: 'Save working hours' }).click();
  await expectText(admin.locator('.doctors-hours [role=status]'), 'Working hours saved.');
  await admin.getByRole('link', { name: WEISS }).click();
  await expectText(admin.locator('#doctor-title'), WEISS);
  await admin.getByLabel('Friday, hours 1, from').waitFor();
  await shoot(admin, 'doctors', { doc: 'doctors', at: '#doctors-hours-title' });

  // -- Settings: the front desk's account
  await open(admin, 'Settings', 'Settings');
  const users = admin.locator('section.settings-users');
  await admin.locator('#user-add-username').fill(DESK.username);
  await admin.locator('#user-add-role').selectOption('front_desk');
  await admin.locator('#user-add-password').fill(DESK.password);
  await users.getByRole('button', { name: 'Add user' }).click();
  await expectText(users.locator(`tr[data-user="${DESK.username}"]`), 'front desk');
  await shoot(admin, 'settings', { doc: 'settings' });

  // what the admin set up, as the API has it
  const clinic = (await server.api('GET', '/api/clinic', undefined, { expect: 200 })).json;
  assert.equal(clinic.name, CLINIC);
  assert.equal(clinic.timezone, ZONE);
  const doctors = (await server.api('GET', '/api/doctors', undefined, { expect: 200 })).json.doctors;
  assert.deepEqual(doctors.map((d) => [d.name, d.slot_minutes]).sort(), [[OKAFOR, 20], [WEISS, 15]]);
  const weiss = doctors.find((d) => d.name === WEISS);
  const okafor = doctors.find((d) => d.name === OKAFOR);
  const hours = (await server.api('GET', `/api/doctors/${weiss.id}/schedule`, undefined, { expect: 200 })).json;
  assert.deepEqual(hours.weekly.map((w) => `${w.weekday} ${w.start}-${w.end}`),
    ['1 08:00-16:00', '2 08:00-16:00', '3 08:00-12:00', '4 08:00-16:00', '5 08:00-16:00']);
  await admin.context().close(); // the admin is done

  // -- the front desk logs in and books for new patients
  const desk = await newPage(t, server, { clock: 'server' });
  await desk.goto(address[1]);
  await loginPage(desk, DESK.username, DESK.password);
  await expectText(desk.locator('.who'), `${DESK.username} (front desk)`);
  await open(desk, 'Book', 'Book an appointment');

  const bookNew = async ({ name, phone, email, doctor, at, reason }) => {
    await desk.getByLabel('Find the patient').fill(name);
    await expectText(desk.locator('.book-found'), 'No patient matches');
    await desk.getByRole('button', { name: 'New patient' }).click();
    assert.equal(await desk.getByLabel('Name', { exact: true }).inputValue(), name);
    await desk.getByLabel('Mobile phone').fill(phone);
    await desk.getByLabel('Email', { exact: true }).fill(email);
    await desk.getByRole('button', { name: 'Add patient' }).click();
    await expectText(desk.locator('#book-chosen'), name);
    await desk.getByLabel('Doctor', { exact: true }).selectOption({ label: doctor });
    assert.equal(await desk.getByLabel('Day', { exact: true }).inputValue(), day, 'the day is the box\'s today');
    if (reason) await desk.getByLabel('Reason (optional)').fill(reason);
    await desk.locator(`#book-slots button[data-start^="${day}T${at}:00"]`).click();
    await expectText(desk.locator('#book-confirm'), `Booked: ${name} with ${doctor}`);
  };
  const newPatients = [
    { name: 'Jonas Becker', phone: '+4915112340001', email: 'jonas.becker@example.org',
      doctor: WEISS, at: '09:00', reason: 'Follow-up: blood test results' },
    { name: 'Sophie Wagner', phone: '+4917612340002', email: 'sophie.wagner@example.org',
      doctor: OKAFOR, at: '09:00', reason: 'Sore throat' },
    { name: 'Emma Schulz', phone: '+4916012340003', email: 'emma.schulz@example.org',
      doctor: WEISS, at: '09:30', reason: 'Check-up' },
    { name: 'Lukas Hoffmann', phone: '+4915212340004', email: 'lukas.hoffmann@example.org',
      doctor: OKAFOR, at: '10:20', reason: 'Vaccination' },
    { name: 'Olivia Bennett', phone: '+447700900123', email: 'olivia.bennett@example.org',
      doctor: WEISS, at: '10:15', reason: 'Back pain' },
  ];
  for (const [i, patient] of newPatients.entries()) {
    if (i > 0) await desk.getByRole('button', { name: 'Book for another patient' }).click();
    await bookNew(patient);
  }
  await shoot(desk, 'book', { doc: 'book' });

  const booked = await appointmentsOn(server, day);
  assert.equal(booked.length, 5, JSON.stringify(booked));
  assert.ok(booked.every((a) => a.status === 'booked' && a.created_by === `user:${DESK.username}`));
  const jonasAt = booked.find((a) => a.doctor_id === weiss.id && a.start.startsWith(`${day}T09:00:00`));
  const sophieAt = booked.find((a) => a.doctor_id === okafor.id && a.start.startsWith(`${day}T09:00:00`));
  assert.ok(jonasAt && sophieAt, JSON.stringify(booked));

  // -- 09:05: Sophie Wagner arrives; the desk checks her in from Today
  await open(desk, 'Today', 'Today');
  await expectText(desk.locator('.today-day'), '(today)');
  await moveClockTo(server, [desk], berlinTime(day, '09:05:30'));
  const sophie = todayCard(desk, sophieAt);
  await sophie.getByRole('button', { name: 'Check in' }).click();
  await expectText(sophie.locator('[data-role=status]'), 'checked in');
  assert.equal((await server.api('GET', `/api/appointments/${sophieAt.id}`)).json.status, 'checked_in');
  await expectText(sophie.locator('h3'), 'Sophie Wagner');
  const jonas = todayCard(desk, jonasAt);
  await expectText(jonas.locator('h3'), 'Jonas Becker');
  assert.equal(await jonas.locator('[data-role=status]').textContent(), 'booked');
  await desk.evaluate(() => { window.sameDocument = true; });

  // a second desk PC keeps No-shows & offers open
  const offers = await newPage(t, server, { clock: 'server' });
  await offers.goto(address[1]);
  await loginPage(offers, DESK.username, DESK.password);
  await open(offers, 'No-shows & offers', 'No-shows & offers');
  await expectText(offers.locator('main'), 'No no-shows or conflicts on this day.');
  await offers.evaluate(() => { window.sameDocument = true; });

  // -- 09:15: the grace has passed; Jonas Becker has not come
  await moveClockTo(server, [desk, offers], berlinTime(day, '09:15:10'));
  await expectText(jonas.locator('[data-role=status]'), 'no-show', { timeout: 15_000 });
  const noShow = (await server.api('GET', `/api/appointments/${jonasAt.id}`)).json;
  assert.equal(noShow.status, 'no_show');
  assert.equal(noShow.updated_by, 'system:no-show');

  const jonasOffer = offerCard(offers, 'Jonas Becker');
  await expectText(jonasOffer, 'No-show', { timeout: 15_000 });
  await expectText(jonasOffer.locator('.offers-state'), 'Open');
  assert.equal(await jonasOffer.locator('[data-option]').count(), 3);
  const email = jonasOffer.locator('tr', { has: offers.getByRole('rowheader', { name: 'Email' }) });
  const sms = jonasOffer.locator('tr', { has: offers.getByRole('rowheader', { name: 'SMS' }) });
  await expectText(email, 'sent', { timeout: 15_000 }); // to the mail server
  await expectText(sms, 'queued'); // no SMS provider here
  assert.ok(sink.messages.some((m) => m.rcpt.includes('jonas.becker@example.org') && /rebook#/.test(m.text)),
    'the offer went out by email with its link');
  for (const p of [desk, offers]) {
    assert.equal(await p.evaluate(() => window.sameDocument), true, 'no reload');
    assertClean(p);
  }

  // -- the patient opens the link on a phone and takes the first time
  const tokens = await server.sql(`SELECT DISTINCT link_token FROM notifications
    WHERE appointment_id = ${sqlQuote(jonasAt.id)} AND link_token IS NOT NULL`);
  assert.equal(tokens.length, 1, JSON.stringify(tokens));
  const phone = await newPage(t, server, { clock: 'server', viewport: { width: 390, height: 844 },
    isMobile: true, hasTouch: true, deviceScaleFactor: 1 });
  await phone.goto(server.url(`/rebook#${tokens[0].link_token}`));
  await expectText(phone.locator('legend'), 'Choose a new time');
  assert.equal(await phone.locator('#clinic').textContent(), CLINIC);
  assert.equal(await phone.locator('#doctor').textContent(), WEISS);
  const first = (await phone.locator('#options label').first().textContent()).replace(/^ ?1\) /, '').trim();
  await axeCheck(phone, 'the patient\'s page');
  await shoot(phone, 'rebook', { doc: 'rebook' });
  await phone.getByLabel(/^ ?1\) /).check();
  await phone.getByRole('button', { name: 'Confirm this time' }).click();
  await expectText(phone.locator('h1'), 'You are booked');
  await expectText(phone.locator('#booked'), first);
  await shoot(phone, 'rebook-booked');

  // -- the desk's screens show it by themselves
  const moved = (await server.api('GET', `/api/appointments/${jonasAt.id}`)).json;
  assert.equal(moved.status, 'rescheduled');
  const fresh = (await server.api('GET', `/api/appointments/${moved.rescheduled_to}`)).json;
  assert.equal(fresh.status, 'booked');
  const freshCard = todayCard(desk, fresh);
  await expectText(freshCard.locator('h3'), 'Jonas Becker', { timeout: 15_000 });
  await expectText(freshCard.locator('[data-role=status]'), 'booked');
  await expectText(jonas.locator('[data-role=status]'), 'moved');
  await expectText(jonasOffer.locator('.offers-state'), 'The patient took option 1', { timeout: 15_000 });
  await expectText(jonasOffer, 'Moved to');
  for (const p of [desk, offers]) assert.equal(await p.evaluate(() => window.sameDocument), true, 'no reload');
  await axeCheck(desk, 'Today at the end of the tour');
  await shoot(desk, 'today', { doc: 'today' });
  await shoot(offers, 'offers', { doc: 'offers' });

  // -- the rest of the desk's screens, for the pictures
  await open(offers, 'Patients', 'Patients');
  await expectText(offers.locator('.patients-list'), 'Sophie Wagner'); // all five, by name
  await offers.getByRole('link', { name: 'Jonas Becker' }).click();
  await expectText(offers.locator('#patient-title'), 'Jonas Becker');
  await expectText(offers.locator('main'), 'moved');
  await shoot(offers, 'patients', { doc: 'patients' });
  await open(offers, 'Messages', 'Messages');
  await expectText(offers.locator('tbody'), 'jonas.becker@example.org');
  await shoot(offers, 'messages', { doc: 'messages' });
});
