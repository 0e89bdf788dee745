/*
 * test_zone.mjs — web/js/zone.js, the pages' one piece of time-zone logic:
 * which days the clocks change on (so that their times carry the zone's
 * name), the day of an instant in a zone, and the Intl options that add the
 * name. Pure functions under Node's own Intl: no browser needed. The
 * browser tests show the result on screen (test_book, test_today_clock).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { lastSunday } from './today_util.mjs';

// Loaded as an ES module from its text: web/ has no package.json saying
// "type": "module", and Debian 12's Node.js 18 would take a .js file there
// for CommonJS (zone.js imports nothing, so this is the same module).
const source = readFileSync(new URL('../../web/js/zone.js', import.meta.url), 'utf8');
const { clocksChange, dayOf, zoneMarked } =
  await import('data:text/javascript;base64,' + Buffer.from(source).toString('base64'));

const TIME = { hour: '2-digit', minute: '2-digit' };

test('the days the clocks change, in Berlin and New York, and none in UTC', () => {
  for (const year of [2026, 2027, 2040]) {
    const spring = lastSunday(year, 3);
    const fall = lastSunday(year, 10);
    assert.equal(clocksChange(spring, 'Europe/Berlin'), true, spring);
    assert.equal(clocksChange(fall, 'Europe/Berlin'), true, fall);
    for (const other of [`${year}-03-01`, `${year}-07-15`, `${year}-12-24`])
      assert.equal(clocksChange(other, 'Europe/Berlin'), false, other);
    assert.equal(clocksChange(fall, 'UTC'), false);
    assert.equal(clocksChange(fall, 'Asia/Tokyo'), false);
  }
  // New York: the first Sunday of November (2026-11-01), not Europe's day
  assert.equal(clocksChange('2026-11-01', 'America/New_York'), true);
  assert.equal(clocksChange('2026-10-25', 'America/New_York'), false);
  // a second call gives the same answer (it is cached)
  assert.equal(clocksChange('2026-11-01', 'America/New_York'), true);
});

test('the day of an instant in a zone, at both ends of the offsets', () => {
  const ms = Date.parse('2026-12-31T11:30:00Z');
  assert.equal(dayOf(ms, 'UTC'), '2026-12-31');
  assert.equal(dayOf(ms, 'Pacific/Kiritimati'), '2027-01-01'); // UTC+14
  assert.equal(dayOf(new Date(ms), 'Pacific/Pago_Pago'), '2026-12-31'); // UTC-11
  assert.equal(dayOf(Date.parse('2027-01-01T00:30:00+01:00'), 'Europe/Berlin'), '2027-01-01');
});

test('a time on a day the clocks change carries the zone name, other times do not', () => {
  const fmt = (iso) => {
    const d = new Date(iso);
    return new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', ...zoneMarked(TIME, d, 'Europe/Berlin') })
      .format(d);
  };
  const fall = lastSunday(2026, 10);
  // 02:30 happens twice that night: the two are told apart
  assert.equal(fmt(`${fall}T02:30:00+02:00`), '02:30 CEST');
  assert.equal(fmt(`${fall}T02:30:00+01:00`), '02:30 CET');
  assert.equal(fmt(`${fall}T15:00:00+01:00`), '15:00 CET'); // the whole day
  assert.equal(fmt(`2026-10-24T15:00:00+02:00`), '15:00');
  // options without the hour (a plain date) stay as they are
  const date = { day: 'numeric', month: 'long' };
  assert.equal(zoneMarked(date, new Date(`${fall}T12:00:00Z`), 'Europe/Berlin'), date);
});
