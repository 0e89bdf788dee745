/*
 * screens/today.js — the day at the desk: one column per doctor with the
 * day's appointments in time order (patient, start–end, status, reason,
 * whether the patient was reminded), the actions the state allows
 * (check-in, complete, cancel with an optional reason, no-show), and a line
 * at the current time on today's view. A doctor sees only their own column
 * (GET /api/appointments answers a doctor only their own anyway).
 *
 * It keeps itself current: GET /api/appointments for the day every 4 s as a
 * background request with the last ETag (a 304 means nothing changed), so
 * no-shows marked by the worker, other users' changes and changes that
 * arrive by sync show within seconds; the doctors every 60 s. Patient names
 * are fetched once per id (GET /api/patients/{id}; a doctor may not list
 * patients) and kept for as long as the screen is open, so a poll costs one
 * request, not one per appointment.
 *
 * Which day: the hash's `day` (#/today?day=YYYY-MM-DD), else today in the
 * clinic's zone. Times are shown in the clinic's zone (time.js); the API's
 * times carry their offset, so a DST day is right without zone arithmetic.
 * "Now" is the browser's clock.
 *
 * Print (window.print()): app.css's print section lays the day out as one
 * compact list without the buttons, one A4 page for a normal day.
 */
import { html, useEffect, useRef, useState } from "../../vendor/htm-preact-standalone.js";
import { api, query } from "../api.js";
import { t, tn } from "../i18n.js";
import { addDays, dayIn, formatDay, formatTime } from "../time.js";
import { clocksChange } from "../zone.js";
import { ProblemBox, ScreenTitle, usePoll, useAction } from "../ui.js";

const POLL_MS = 4000;
const DOCTORS_POLL_MS = 60000;
const NOW_TICK_MS = 30000;
const LIST_LIMIT = 2000;
const NAME_FETCHES = 4; /* patient names fetched at once */
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
const DESK = ["admin", "front_desk"];

/* What the state and the role allow (src/domain/appointment.c
 * appt_transition; cancel and no-show are desk routes). No-show only once
 * start + the clinic's grace has passed. */
function allowedActions(a, role, graceMinutes, now) {
  const desk = DESK.includes(role);
  const out = [];
  if (a.status === "booked") out.push("checkin");
  if (a.status === "checked_in") out.push("complete");
  if (desk && (a.status === "booked" || a.status === "conflict")) out.push("cancel");
  if (desk && a.status === "booked" && now >= Date.parse(a.start) + graceMinutes * 60000)
    out.push("noshow");
  return out;
}

const PATHS = { checkin: "check-in", complete: "complete", noshow: "no-show", cancel: "cancel" };

/* "reminded 10:05", or with the date when it was another day. */
function remindedText(at, day, zone) {
  const when = dayIn(zone, Date.parse(at)) === day
    ? formatTime(at, zone, "time")
    : formatTime(at, zone, "dateShort") + ", " + formatTime(at, zone, "time");
  return t("today.reminded", { when });
}

function CancelForm({ id, busy, onSubmit, onBack }) {
  const [reason, setReason] = useState("");
  const ref = useRef(null);
  useEffect(() => {
    if (ref.current) ref.current.focus();
  }, []);
  const fid = "today-cancel-" + id;
  const submit = (ev) => {
    ev.preventDefault();
    onSubmit(reason.trim());
  };
  return html`<form class="today-cancel no-print" onSubmit=${submit}>
    <label for=${fid}>${t("today.cancel_reason")}</label>
    <input id=${fid} ref=${ref} maxlength="500" value=${reason}
      onInput=${(e) => setReason(e.target.value)} />
    <div class="actions">
      <button type="submit" class="danger" disabled=${busy}>${t("today.cancel_confirm")}</button>
      <button type="button" class="secondary" onClick=${onBack}>${t("today.cancel_back")}</button>
    </div>
  </form>`;
}

function Card({ a, name, app, now, day, onChanged, onRefused }) {
  const zone = app.clinic.timezone;
  const [busy, problem, run] = useAction();
  const [cancelling, setCancelling] = useState(false);
  const [refocus, setRefocus] = useState(0);
  const [backFocus, setBackFocus] = useState(0);
  const ref = useRef(null);
  const acts = allowedActions(a, app.session.role, app.clinic.grace_minutes ?? 15, now);

  /* The button pressed is gone after an action: the focus stays in the
   * card (its next action, else its heading). */
  useEffect(() => {
    if (!refocus || !ref.current) return;
    const next = ref.current.querySelector(".today-actions button") || ref.current.querySelector("h3");
    if (next) next.focus();
  }, [refocus]);

  /* "Back" from the cancel form: the focus goes back to "Cancel" (WCAG 2.4.3). */
  useEffect(() => {
    if (!backFocus || !ref.current) return;
    const btn = ref.current.querySelector("[data-act=cancel]");
    if (btn) btn.focus();
  }, [backFocus]);

  const act = async (what, body) => {
    const r = await run(() =>
      api("POST", `/api/appointments/${encodeURIComponent(a.id)}/${PATHS[what]}`, { body }));
    if (r && r.ok && r.json) {
      setCancelling(false);
      onChanged(r.json, what);
      setRefocus((n) => n + 1);
    } else if (r) {
      onRefused(); /* the card shows why; the list shows what changed meanwhile */
    }
  };

  const live = a.status === "booked" || a.status === "checked_in";
  const titleId = "today-appt-" + a.id;
  return html`<li class=${"today-appt" + (live ? "" : " today-appt-done")} data-id=${a.id}
      data-status=${a.status}>
    <article aria-labelledby=${titleId} ref=${ref}>
      <p class="today-appt-head">
        <span class="today-time">
          <time datetime=${a.start}>${formatTime(a.start, zone, "time")}</time>–<time
            datetime=${a.end}>${formatTime(a.end, zone, "time")}</time></span>
        <span class=${"badge " + a.status} data-role="status">${t("today.status." + a.status)}</span>
      </p>
      <h3 class="today-patient" id=${titleId} tabindex="-1">${name === undefined ? t("app.loading")
        : name === null ? t("today.patient_unknown") : name}</h3>
      ${a.reason && html`<p class="today-reason">${a.reason}</p>`}
      ${a.status === "cancelled" && a.cancel_reason
        && html`<p class="today-reason">${t("today.cancel_reason_was", { reason: a.cancel_reason })}</p>`}
      ${a.status === "conflict" && a.conflict_reason
        && html`<p class="today-reason">${a.conflict_reason}</p>`}
      ${a.reminded_at && html`<p class="today-reminded" data-role="reminded">
        ${remindedText(a.reminded_at, day, zone)}</p>`}
      ${acts.length > 0 && !cancelling && html`<div class="actions today-actions no-print">
        ${acts.includes("checkin") && html`<button type="button" disabled=${busy}
          aria-describedby=${titleId} onClick=${() => act("checkin")}>${t("today.checkin")}</button>`}
        ${acts.includes("complete") && html`<button type="button" disabled=${busy}
          aria-describedby=${titleId} onClick=${() => act("complete")}>${t("today.complete")}</button>`}
        ${acts.includes("noshow") && html`<button type="button" class="secondary" disabled=${busy}
          aria-describedby=${titleId} onClick=${() => act("noshow")}>${t("today.noshow")}</button>`}
        ${acts.includes("cancel") && html`<button type="button" class="secondary" disabled=${busy}
          data-act="cancel" aria-describedby=${titleId} onClick=${() => setCancelling(true)}>${t("today.cancel")}</button>`}
      </div>`}
      ${cancelling && acts.includes("cancel") && html`<${CancelForm} id=${a.id} busy=${busy}
        onBack=${() => { setCancelling(false); setBackFocus((n) => n + 1); }}
        onSubmit=${(reason) => act("cancel", reason ? { reason } : undefined)} />`}
      <${ProblemBox} problem=${problem} />
    </article>
  </li>`;
}

/* The line at the current time, as a list item between the appointments. */
function NowLine({ now, zone }) {
  const when = formatTime(now, zone, "time");
  return html`<li class="today-now" data-role="now">
    <span class="today-now-label">${t("today.now", { time: when })}</span>
  </li>`;
}

function Column({ doctor, appts, names, app, now, day, isToday, onChanged, onRefused }) {
  const zone = app.clinic.timezone;
  const headId = "today-doc-" + doctor.id;
  const items = [];
  let lineAt = -1;
  if (isToday) {
    lineAt = appts.findIndex((a) => Date.parse(a.start) > now);
    if (lineAt < 0) lineAt = appts.length;
  }
  appts.forEach((a, i) => {
    if (i === lineAt) items.push(html`<${NowLine} key="now" now=${now} zone=${zone} />`);
    items.push(html`<${Card} key=${a.id} a=${a} name=${names[a.patient_id]} app=${app} now=${now}
      day=${day} onChanged=${onChanged} onRefused=${onRefused} />`);
  });
  if (lineAt === appts.length) items.push(html`<${NowLine} key="now" now=${now} zone=${zone} />`);
  const count = appts.filter((a) => a.status !== "rescheduled" && a.status !== "cancelled").length;
  return html`<section class="today-col" aria-labelledby=${headId} data-doctor=${doctor.id}>
    <h2 id=${headId}>${doctor.name || t("today.doctor_unknown")}
      <span class="today-count">${tn("today.count", count)}</span></h2>
    ${appts.length === 0 && html`<p class="muted">${t("today.none")}</p>`}
    ${items.length > 0 && html`<ol class="today-list">${items}</ol>`}
  </section>`;
}

export default function Today({ app }) {
  const zone = app.clinic.timezone;
  const role = app.session.role;
  const [now, setNow] = useState(Date.now());
  const today = dayIn(zone, now);
  const day = DAY_RE.test(app.params.day || "") ? app.params.day : today;
  const isToday = day === today;
  const dst = clocksChange(day, zone); /* cached per zone and day (zone.js) */

  const [doctors, setDoctors] = useState(null);
  const [list, setList] = useState(null); /* { day, appts } */
  const [names, setNames] = useState({});
  const [loadProblem, setLoadProblem] = useState(null);
  const [said, setSaid] = useState("");

  const etag = useRef({ day: "", value: "" });
  const changes = useRef(0); /* local changes: a poll begun before one is stale */
  const asked = useRef(new Set()); /* patient ids asked for */
  const dayRef = useRef(day);
  dayRef.current = day;

  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), NOW_TICK_MS);
    return () => clearInterval(timer);
  }, []);

  const doctorsEtag = useRef("");
  const loadDoctors = async (opts) => {
    const r = await api("GET", "/api/doctors", { ...opts, etag: doctorsEtag.current || undefined });
    if (r.notModified) return;
    if (r.ok && r.json) {
      doctorsEtag.current = r.etag || "";
      setDoctors(r.json.doctors || []);
    } else if (r.problem) setLoadProblem(r.problem);
  };
  usePoll(loadDoctors, DOCTORS_POLL_MS);

  const loadNames = async (appts, opts) => {
    const ids = [...new Set(appts.map((a) => a.patient_id))].filter((id) => !asked.current.has(id));
    ids.forEach((id) => asked.current.add(id));
    for (let i = 0; i < ids.length; i += NAME_FETCHES) {
      const found = {};
      await Promise.all(ids.slice(i, i + NAME_FETCHES).map(async (id) => {
        try {
          const r = await api("GET", `/api/patients/${encodeURIComponent(id)}`, opts);
          if (r.ok && r.json) found[id] = r.json.name;
          else if (r.status === 404 || r.status === 403) found[id] = null;
          else asked.current.delete(id); /* try again at the next poll */
        } catch (e) {
          asked.current.delete(id);
        }
      }));
      setNames((n) => ({ ...n, ...found }));
    }
  };

  const loadDay = async (opts) => {
    const d = day;
    const seq = changes.current;
    const known = etag.current.day === d ? etag.current.value : "";
    const r = await api("GET", "/api/appointments" + query({ from: d, to: d, limit: LIST_LIMIT }),
      { ...opts, etag: known || undefined });
    if (dayRef.current !== d || changes.current !== seq) return; /* stale */
    if (r.notModified) return;
    if (!r.ok) {
      setLoadProblem(r.problem);
      return;
    }
    setLoadProblem(null);
    etag.current = { day: d, value: r.etag || "" };
    const appts = (r.json && r.json.appointments) || [];
    setList({ day: d, appts });
    if (doctors && appts.some((a) => !doctors.some((doc) => doc.id === a.doctor_id)))
      loadDoctors(opts); /* a doctor added meanwhile */
    loadNames(appts, opts);
  };
  /* Keyed by the day asked for in the address, not the one the clock
   * gives: at midnight the next background poll shows the new day, with no
   * request that counts as the user's activity (usePoll). */
  usePoll(loadDay, POLL_MS, [app.params.day || ""]);

  const onChanged = (appt, what) => {
    changes.current += 1;
    etag.current = { day: "", value: "" };
    setList((l) => l && { ...l, appts: l.appts.map((a) => (a.id === appt.id ? appt : a)) });
    const name = names[appt.patient_id] || "";
    setSaid(t("today.done." + what, { name, time: formatTime(appt.start, zone, "time") }));
  };

  const goto = (d) => app.navigate("today", d === today ? undefined : { day: d });

  const appts = list && list.day === day ? list.appts : null;
  let cols = [];
  if (doctors && appts) {
    const mine = role === "doctor" ? doctors.filter((d) => d.id === app.session.doctor_id) : doctors;
    cols = mine.map((d) => ({ doctor: d, appts: [] }));
    const byId = new Map(cols.map((c) => [c.doctor.id, c]));
    for (const a of appts) {
      if (role === "doctor" && a.doctor_id !== app.session.doctor_id) continue;
      let c = byId.get(a.doctor_id);
      if (!c) {
        c = { doctor: { id: a.doctor_id, name: "" }, appts: [] };
        byId.set(a.doctor_id, c);
        cols.push(c);
      }
      c.appts.push(a);
    }
    for (const c of cols) c.appts.sort((x, y) => Date.parse(x.start) - Date.parse(y.start));
  }

  return html`<div class="today">
    <${ScreenTitle} text=${t("today.title")} />
    <div class="today-bar">
      <p class="today-day" aria-live="polite">
        <span>${formatDay(day)}</span>
        ${isToday && html` <span class="today-is">${t("today.is_today")}</span>`}
      </p>
      <div class="today-picker no-print">
        <button type="button" class="secondary" onClick=${() => goto(addDays(day, -1))}>
          <span aria-hidden="true">← </span>${t("today.prev")}</button>
        <label for="today-date" class="visually-hidden">${t("today.pick")}</label>
        <input id="today-date" type="date" value=${day}
          onChange=${(e) => DAY_RE.test(e.target.value) && e.target.value >= "1970" && goto(e.target.value)} />
        <button type="button" class="secondary" onClick=${() => goto(addDays(day, 1))}>
          ${t("today.next")}<span aria-hidden="true"> →</span></button>
        ${!isToday && html`<button type="button" class="secondary" onClick=${() => goto(today)}>
          ${t("today.back_to_today")}</button>`}
        <button type="button" class="secondary" onClick=${() => window.print()}>${t("today.print")}</button>
      </div>
    </div>
    ${dst && html`<p class="today-dst" data-role="dst">${t("today.clocks_change")}</p>`}
    <p class="visually-hidden" role="status" aria-live="polite">${said}</p>
    <${ProblemBox} problem=${loadProblem} />
    ${!(doctors && appts) && !loadProblem && html`<p class="loading">${t("app.loading")}</p>`}
    ${doctors && appts && cols.length === 0 && html`<p>${role === "doctor"
      ? t("today.no_column") : t("today.no_doctors")}</p>`}
    ${cols.length > 0 && html`<div class="today-cols">
      ${cols.map((c) => html`<${Column} key=${c.doctor.id} doctor=${c.doctor} appts=${c.appts}
        names=${names} app=${app} now=${now} day=${day} isToday=${isToday}
        onChanged=${onChanged}
        onRefused=${() => loadDay({ background: true }).catch(() => null)} />`)}
    </div>`}
  </div>`;
}
