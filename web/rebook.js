/*
 * rebook.js — the patient's rebooking page ({public_url}/rebook#<token>).
 *
 * Security (docs/security.md, "Patient links"): the token is the URL
 * fragment, which the browser never sends to a server nor puts in a Referer
 * header. The page takes it from location.hash, keeps it in sessionStorage
 * (so a reload works), removes it from the address bar and history, and
 * posts it in a JSON body: POST /api/offer-link shows the offer, POST
 * /api/offer-link/rebook takes an option, POST /api/offer-link/calendar
 * gives the new appointment as an .ics file once the offer is used. Requests
 * carry no cookies (credentials: "omit"): the link acts as itself, never as
 * a staff member logged in on the same browser. Everything from the server
 * goes in as text (textContent, text nodes, attribute values); nothing is
 * ever parsed as HTML. The page shows only what those answers hold.
 *
 * What the patient sees: the clinic, the doctor, the appointment the offer
 * is about and the offered times, written out in the clinic's time zone
 * (Intl.DateTimeFormat), whatever zone the phone is in; one of them is
 * picked and confirmed; then the new appointment with a calendar file. A
 * time taken meanwhile, a used or an expired link, say so in plain words
 * with what is still possible: the times still free, or to call the clinic.
 *
 * Language: English or German (rebook-i18n.js): the browser's languages in
 * order when one is en or de, else the clinic's `language` setting when it
 * is not "auto" (it comes with the offer), else English.
 */
import { TEXT } from "./rebook-i18n.js";
import { zoneMarked } from "./js/zone.js";

const KEY = "clinicbox-offer-token";
/* The clinic's name and language setting from the last answer in this tab:
 * an expired link's answer (410) names no clinic, and the page still says
 * whom to call after a reload. One origin is one clinic's box. */
const CLINIC_KEY = "clinicbox-offer-clinic";
const $ = (id) => document.getElementById(id);

let lang = "en";
let locale = "en";
let zone = "UTC";
let clinicName = "";
let token = "";
let calendarUrl = "";

/* -- language and times ----------------------------------------------- */

function browserLanguage() {
  const list = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language];
  for (const tag of list) {
    const base = String(tag || "").toLowerCase().split("-")[0];
    if (TEXT[base]) return { lang: base, locale: supported(tag) ? tag : base };
  }
  return null;
}

function supported(tag) {
  try {
    return Intl.DateTimeFormat.supportedLocalesOf([tag]).length > 0;
  } catch (e) {
    return false;
  }
}

/* The browser's language when the page has it, else the clinic's setting,
 * else English. */
function chooseLanguage(setting) {
  const b = browserLanguage();
  if (b) return b;
  if (setting && setting !== "auto" && TEXT[setting]) return { lang: setting, locale: setting };
  return { lang: "en", locale: "en" };
}

function setLanguage(choice) {
  lang = choice.lang;
  locale = choice.locale;
  document.documentElement.lang = lang;
}

function tr(key, vars) {
  const s = TEXT[lang][key] ?? TEXT.en[key] ?? key;
  return vars ? s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m)) : s;
}

function clinic() {
  return clinicName || tr("clinic_unknown");
}

const WRITTEN_OUT = { weekday: "long", day: "numeric", month: "long", year: "numeric",
  hour: "2-digit", minute: "2-digit" };

/* "Tuesday, 1 December 2026 at 09:30" in the clinic's zone (with the
 * zone's name on a day the clocks change: "at 02:30 CEST"). */
function when(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return new Intl.DateTimeFormat(locale, { ...zoneMarked(WRITTEN_OUT, d, zone), timeZone: zone }).format(d);
}

/* "Tuesday, 1 December 2026, 09:30–09:45" in the clinic's zone. */
function span(start, end) {
  const a = new Date(start);
  const b = new Date(end);
  if (!end || Number.isNaN(b.getTime()) || Number.isNaN(a.getTime())) return when(start);
  const f = new Intl.DateTimeFormat(locale, { ...zoneMarked(WRITTEN_OUT, a, zone), timeZone: zone });
  if (!f.formatRange) return when(start);
  return f.formatRange(a, b);
}

/* -- the page --------------------------------------------------------------- */

/* An element with attributes (set as properties or attributes, never as
 * HTML) and children (strings become text nodes). */
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false)
    e.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
  return e;
}

function say(text, kind) {
  const s = $("status");
  s.textContent = text || "";
  s.className = kind || "";
}

function setTitle(text, focus) {
  const h = $("title");
  h.textContent = text;
  document.title = clinicName ? text + " – " + clinicName : text;
  if (focus) h.focus();
}

function remember(v) {
  try {
    window.sessionStorage.setItem(CLINIC_KEY, JSON.stringify({ name: v.clinic.name,
      language: v.clinic.language || "" }));
  } catch (e) {
    /* private mode */
  }
}

function remembered() {
  try {
    const c = JSON.parse(window.sessionStorage.getItem(CLINIC_KEY) || "null");
    return c && typeof c.name === "string" ? c : null;
  } catch (e) {
    return null;
  }
}

function setClinic(name) {
  clinicName = name || "";
  $("clinic").textContent = clinicName;
  $("clinic").hidden = !clinicName;
}

function body(...children) {
  const b = $("body");
  b.replaceChildren(...children.filter(Boolean));
}

function retryButton(fn) {
  return el("button", { type: "button", class: "secondary", onclick: fn }, tr("retry"));
}

/* A catalogue string whose placeholders are filled by elements (`nodes`,
 * a name in <strong>, say) or text (`vars`): an array of nodes. */
function trNodes(key, nodes, vars) {
  const template = TEXT[lang][key] ?? TEXT.en[key] ?? key;
  const out = [];
  let last = 0;
  for (const m of template.matchAll(/\{(\w+)\}/g)) {
    out.push(document.createTextNode(template.slice(last, m.index)));
    const k = m[1];
    if (nodes && k in nodes) out.push(nodes[k]);
    else out.push(document.createTextNode(vars && k in vars ? String(vars[k]) : m[0]));
    last = m.index + m[0].length;
  }
  out.push(document.createTextNode(template.slice(last)));
  return out;
}

/* The appointment the offer is about, in words. */
function currentLine(v) {
  const a = v.appointment;
  let key = "current_future";
  if (v.used) key = "current_old";
  else if (a.status === "rescheduled") key = "current_moved";
  else if (a.status === "no_show") key = "current_no_show";
  else if (a.status === "conflict") key = "current_conflict";
  else if (Date.parse(a.start) <= Date.now()) key = "current_past";
  return el("p", { class: "current" }, ...trNodes(key, {
    doctor: el("strong", { id: "doctor" }, v.doctor.name),
    when: el("strong", { id: "current" }, span(a.start, a.end)),
  }));
}

function optionsForm(v) {
  const list = el("div", { class: "options", id: "options" });
  v.options.forEach((o, i) => {
    const id = "option-" + o.option;
    // numbered as in the patient's message ("2) Tue 01 Dec 09:30")
    list.appendChild(el("label", { class: "option", for: id },
      el("input", { type: "radio", name: "option", id, value: String(o.option), required: true,
        checked: i === 0 }),
      el("span", {}, o.option + ") " + span(o.start, o.end))));
  });
  const button = el("button", { type: "submit", id: "book" }, tr("book"));
  const form = el("form", { id: "pick", onsubmit: (ev) => {
    ev.preventDefault();
    const picked = form.querySelector("input[name=option]:checked");
    if (picked) rebook(Number(picked.value), v, button);
  } },
  el("fieldset", {},
    el("legend", {}, tr("choose")),
    el("p", { class: "hint", id: "choose-hint" }, tr("choose_hint")),
    list),
  button);
  return form;
}

/* The offer as POST /api/offer-link (or /rebook) answered it. `notice`:
 * what to say first (a time taken meanwhile, a link already used). */
function show(v, notice) {
  zone = v.clinic.timezone || "UTC";
  setClinic(v.clinic.name);
  remember(v);
  if (v.used && v.chosen) return showBooked(v, notice ? notice : { text: tr("already_used"), kind: "note" });
  setTitle(tr("title"));
  const expires = el("p", { class: "expires" }, tr("valid_until", { when: when(v.expires_at) }));
  if (!v.rebookable) {
    say(notice ? notice.text + " " + tr("not_movable", { clinic: clinic() }) : tr("not_movable", { clinic: clinic() }), "problem");
    return body(currentLine(v));
  }
  if (v.options.length === 0) {
    say(notice ? notice.text + " " + tr("none_left", { clinic: clinic() }) : tr("none_left", { clinic: clinic() }), "problem");
    return body(currentLine(v));
  }
  if (notice) say(notice.text + " " + tr("still_free"), notice.kind);
  else say("");
  body(currentLine(v), optionsForm(v), expires);
}

function showBooked(v, notice) {
  setTitle(tr("booked_title"), true);
  say(notice ? notice.text : "", notice ? notice.kind : "");
  const ics = el("p", { class: "ics" });
  body(
    el("p", { class: "booked", id: "booked" }, ...trNodes("booked", {
      when: el("strong", { id: "new-time" }, span(v.chosen.start, v.chosen.end)),
    }, { doctor: v.doctor.name, clinic: clinic() })),
    currentLine(v),
    ics,
    el("p", {}, tr("booked_note")));
  calendar(ics);
}

/* The new appointment as an .ics file: fetched (it needs the token in the
 * body), then offered as a download of an object URL. */
async function calendar(box) {
  box.textContent = tr("ics_loading");
  try {
    const r = await post("/api/offer-link/calendar", { offer_token: token }, "text/calendar");
    if (r.status !== 200) {
      box.remove();
      return;
    }
    if (calendarUrl) URL.revokeObjectURL(calendarUrl);
    calendarUrl = URL.createObjectURL(new Blob([await r.res.blob()], { type: "text/calendar" }));
    box.replaceChildren(el("a", { class: "button", href: calendarUrl, download: "appointment.ics" }, tr("ics")));
  } catch (e) {
    box.remove();
  }
}

/* -- the API ------------------------------------------------------------- */

async function post(path, payload, accept) {
  const res = await window.fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: accept || "application/json" },
    body: JSON.stringify(payload),
    credentials: "omit",
    cache: "no-store",
    referrerPolicy: "no-referrer",
  });
  let json = null;
  if ((res.headers.get("Content-Type") || "").includes("json")) json = await res.json().catch(() => null);
  return { status: res.status, json, res };
}

/* Words for an answer that is not 200. */
function failure(status) {
  if (status === 410) return tr("expired", { clinic: clinic() });
  if (status === 400 || status === 404 || status === 422) return tr("invalid");
  return tr("busy", { clinic: clinic() });
}

async function view(notice) {
  let r;
  try {
    r = await post("/api/offer-link", { offer_token: token });
  } catch (e) {
    say(tr("unreachable"), "problem");
    return body(retryButton(() => load()));
  }
  if (r.status === 200 && r.json) {
    if (r.json.clinic && r.json.clinic.language) setLanguage(chooseLanguage(r.json.clinic.language));
    return show(r.json, notice);
  }
  setTitle(tr("title"));
  say(failure(r.status), "problem");
  body(r.status >= 500 || r.status === 429 ? retryButton(() => load()) : null);
}

function load() {
  say(tr("loading"));
  body();
  return view();
}

async function rebook(option, v, button) {
  button.disabled = true;
  say(tr("booking"));
  let r;
  try {
    r = await post("/api/offer-link/rebook", { offer_token: token, option });
  } catch (e) {
    button.disabled = false;
    return say(tr("unreachable"), "problem");
  }
  if (r.status === 200 && r.json && r.json.chosen) return showBooked(r.json, null);
  button.disabled = false;
  if (r.status === 409) {
    // taken meanwhile, used in another tab, or moved by the clinic: the
    // offer as it is now says which, and what is still possible
    const used = { text: tr("already_used"), kind: "problem" };
    const taken = { text: tr("taken"), kind: "problem" };
    const again = await post("/api/offer-link", { offer_token: token }).catch(() => null);
    if (again && again.status === 200 && again.json) return show(again.json, again.json.used ? used : taken);
    return say(again ? failure(again.status) : tr("unreachable"), "problem");
  }
  say(failure(r.status), "problem");
  if (r.status === 410 || r.status === 404) body(currentLine(v));
}

/* -- start ------------------------------------------------------------------ */

function takeToken() {
  const t = window.location.hash.replace(/^#/, "");
  if (t) {
    try {
      window.sessionStorage.setItem(KEY, t);
    } catch (e) {
      /* private mode: a reload will need the link again */
    }
    window.history.replaceState(null, "", window.location.pathname);
    return t;
  }
  try {
    return window.sessionStorage.getItem(KEY) || "";
  } catch (e) {
    return "";
  }
}

function start() {
  const known = remembered();
  setLanguage(chooseLanguage(known && known.language));
  if (known) setClinic(known.name);
  setTitle(tr("title"));
  token = takeToken();
  if (!token) return say(tr("no_token"), "problem");
  window.addEventListener("pagehide", () => calendarUrl && URL.revokeObjectURL(calendarUrl));
  load();
}

start();
