/*
 * zone.js — the one piece of time-zone knowledge the pages need beyond
 * Intl.DateTimeFormat: whether the clocks change on a given day in a zone.
 * On such a day an hour is skipped or repeated, so a bare "02:30" can name
 * two instants (or none): the times of that day are written with the zone's
 * short name ("02:30 CEST", "02:30 CET"). No imports, so that the patient's
 * rebooking page (rebook.js) shares it with the staff UI (time.js).
 */

const offsetFormats = new Map();
const answers = new Map();

/* Date and UTC offset of an instant in the zone, as parts. */
function partsIn(zone, ms) {
  let f = offsetFormats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", { timeZone: zone, year: "numeric", month: "2-digit",
      day: "2-digit", timeZoneName: "longOffset" });
    offsetFormats.set(zone, f);
  }
  return Object.fromEntries(f.formatToParts(ms).map((x) => [x.type, x.value]));
}

/* "YYYY-MM-DD" of an instant (a Date or epoch ms) in the zone. */
export function dayOf(value, zone) {
  const p = partsIn(zone, value);
  return `${p.year.padStart(4, "0")}-${p.month}-${p.day}`;
}

/* Whether the clocks change during the plain date `day` ("YYYY-MM-DD") in
 * the zone: the instants an hour apart that fall on that date there
 * (sampled from 14 h before to 14 h after it in UTC, the widest offsets)
 * have more than one UTC offset. (A change at midnight that skips the day's
 * first hour leaves one offset: no time of that day is ambiguous.) */
export function clocksChange(day, zone) {
  const key = zone + "|" + day;
  const known = answers.get(key);
  if (known !== undefined) return known;
  const offsets = new Set();
  const from = Date.parse(day + "T00:00:00Z") - 14 * 3600000;
  for (let ms = from; !Number.isNaN(from) && ms <= from + 52 * 3600000; ms += 3600000) {
    if (dayOf(ms, zone) === day) offsets.add(partsIn(zone, ms).timeZoneName);
  }
  const answer = offsets.size > 1;
  answers.set(key, answer);
  return answer;
}

/* Intl options for writing the instant `date`: with the zone's short name
 * added when they show the hour and the clocks change on its day there. */
export function zoneMarked(options, date, zone) {
  if (!options.hour || !clocksChange(dayOf(date, zone), zone)) return options;
  return { ...options, timeZoneName: "short" };
}
