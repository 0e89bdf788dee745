/*
 * time.js — dates and times as the clinic sees them: always in the
 * clinic's time zone (GET /api/clinic `timezone`), whatever zone the
 * browser is in, formatted by Intl.DateTimeFormat in the UI's language (in
 * the browser's variant of it: en-GB or en-US), with
 * the date written out. The API's times carry their offset
 * ("2026-03-29T09:30:00+02:00"), so a DST day is right without any zone
 * arithmetic here; the only arithmetic is on plain "YYYY-MM-DD" dates. On a
 * day the clocks change, a time carries the zone's short name ("02:30
 * CEST", "02:30 CET"; zone.js), since that day repeats or skips an hour.
 */
import { locale } from "./i18n.js";
import { dayOf, zoneMarked } from "./zone.js";

const cache = new Map();

function formatter(zone, options) {
  const key = locale() + "|" + zone + "|" + JSON.stringify(options);
  let f = cache.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale(), { timeZone: zone, ...options });
    cache.set(key, f);
  }
  return f;
}

const STYLES = {
  time: { hour: "2-digit", minute: "2-digit" },
  date: { weekday: "long", day: "numeric", month: "long", year: "numeric" },
  dateShort: { weekday: "short", day: "numeric", month: "short" },
  dateTime: { weekday: "short", day: "numeric", month: "long", year: "numeric",
    hour: "2-digit", minute: "2-digit" },
};

/* An API time (or a Date, or epoch ms) in the clinic's zone. */
export function formatTime(value, zone, style = "dateTime") {
  if (value === undefined || value === null || value === "") return "";
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  const z = zone || "UTC";
  return formatter(z, zoneMarked(STYLES[style] || STYLES.dateTime, d, z)).format(d);
}

/* A plain date "YYYY-MM-DD" written out (it is a calendar day, not an
 * instant: formatted at noon UTC so that no zone moves it). */
export function formatDay(day, style = "date") {
  const d = new Date(day + "T12:00:00Z");
  if (Number.isNaN(d.getTime())) return day;
  return formatter("UTC", STYLES[style] || STYLES.date).format(d);
}

/* "YYYY-MM-DD" of an instant in the zone. */
export function dayIn(zone, value = Date.now()) {
  return dayOf(value instanceof Date ? value : new Date(value), zone || "UTC");
}

/* A plain date n days later (or earlier). */
export function addDays(day, n) {
  const d = new Date(day + "T12:00:00Z");
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/* ISO weekday of a plain date: 1 = Monday ... 7 = Sunday (as the API's
 * schedules count). */
export function weekday(day) {
  const w = new Date(day + "T12:00:00Z").getUTCDay();
  return w === 0 ? 7 : w;
}
