/*
 * today_util.mjs — what the Today screen's browser tests share
 * (test_today.mjs, test_today_clock.mjs): dates of the real calendar in
 * Berlin, how the UI writes a time, requests on a connection of their own,
 * and opening the screen.
 */
import assert from 'node:assert/strict';
import http from 'node:http';

import { loginCookie, zoneDay } from './harness.mjs';

export const XSS = '<img src=x onerror=alert(1)>';
export const ZONE = 'Europe/Berlin';

/* "YYYY-MM-DD" of an instant in Berlin. */
export function berlinDay(ms = Date.now()) {
  return zoneDay(ZONE, ms);
}

/* Unix ms of a wall-clock time in Berlin on a day, at the offset of the
 * day's noon (not for the hours of a DST change: a morning, or a midnight,
 * which takes the offset of the day before's noon). */
export function berlinTime(day, hhmmss) {
  const noon = Date.parse(`${day}T12:00:00Z`);
  const name = new Intl.DateTimeFormat('en-US', { timeZone: ZONE, timeZoneName: 'longOffset' })
    .formatToParts(noon).find((p) => p.type === 'timeZoneName').value; // "GMT+01:00"
  const [, sign, h, m] = /GMT([+-])(\d\d):(\d\d)/.exec(name);
  const offset = (sign === '-' ? -1 : 1) * (Number(h) * 60 + Number(m)) * 60_000;
  return Date.parse(`${day}T${hhmmss}Z`) - offset;
}

export function addDays(day, n) {
  const d = new Date(day + 'T12:00:00Z');
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/* The last Sunday of a month (1-12) of a year, "YYYY-MM-DD". */
export function lastSunday(year, month) {
  const d = new Date(Date.UTC(year, month, 0)); // the month's last day
  d.setUTCDate(d.getUTCDate() - d.getUTCDay());
  return d.toISOString().slice(0, 10);
}

/* The next last Sunday of `month` at least two days ahead. */
export function nextLastSunday(month) {
  const soon = addDays(berlinDay(), 2);
  let y = Number(soon.slice(0, 4));
  while (lastSunday(y, month) < soon) y++;
  return lastSunday(y, month);
}

/* How the UI (British English, the harness's browser) writes the
 * wall-clock time of an API time ("2027-03-28T01:30:00+01:00" is "01:30"):
 * the API writes the clinic's local time with its offset, so the time is
 * read off the string, not computed in any zone. */
export function shown(iso) {
  return iso.slice(11, 16);
}

/* Text with Intl's narrow and no-break spaces as plain spaces. */
export function plain(s) {
  return (s || '').replace(/[\u202f\u00a0]/g, ' ');
}

/* GET on a connection of its own ({status, headers, json}): a box on a
 * fast clock closes idle connections before fetch() would reuse them. */
export function getOnce(server, p) {
  return new Promise((resolve, reject) => {
    const req = http.get(server.url(p), { agent: false, headers: { Authorization: `Bearer ${server.token}` } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => { body += c; });
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, json: body ? JSON.parse(body) : null }));
      });
    req.on('error', reject);
  });
}

/* The server's clock now (its Date header), in Unix ms. */
export async function serverNow(server) {
  const r = await getOnce(server, '/api/health');
  assert.equal(r.status, 200);
  return Date.parse(r.headers.date);
}

/* The doctor's free slots on a day, as the API gives them. */
export async function slots(server, doctor, day) {
  const r = await getOnce(server, `/api/doctors/${doctor.id}/available-slots?from=${day}&to=${day}`);
  assert.equal(r.status, 200);
  return r.json.slots;
}

export async function statusOf(server, appt) {
  const r = await getOnce(server, `/api/appointments/${appt.id}`);
  assert.equal(r.status, 200);
  return r.json;
}

/* The Today screen, logged in by cookie; waits for the columns. */
export async function openToday(page, server, user, day) {
  await loginCookie(page, user.username, user.password);
  await page.goto(server.url('/#/today' + (day ? `?day=${day}` : '')));
  await page.locator('.today-cols').waitFor();
}

export function card(page, appt) {
  return page.locator(`.today-appt[data-id="${appt.id}"]`);
}

/* Today in Berlin, by the real calendar. */
export const TODAY = berlinDay();
