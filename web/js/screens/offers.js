/*
 * screens/offers.js — No-shows & offers (admin, front desk): one day's
 * appointments that need a new time, and what the box did about them.
 *
 * Which appointments: the day's `no_show` and `conflict` ones, the day's
 * `rescheduled` ones that were a no-show or a conflict (so that a rebook,
 * by the patient's link or here, stays visible with where it went), and any
 * other appointment of the day's offers (staff asked for a reschedule).
 * With each, its offers (GET /api/offers?from=D&to=D, matched by
 * appointment_id): the options written out in the clinic's zone, the
 * expiry, whether it was used and which option, and each message's state
 * (sent, failed, skipped, queued, dead, with its last error).
 *
 * Actions, each shown where the state allows it: make an offer
 * (POST /api/appointments/{id}/reschedule) when there is none still open;
 * rebook option N of the newest offer, while it lies ahead, on the
 * patient's behalf (POST
 * /api/appointments/{id}/rebook {start}: staff never hold the offer's
 * token, the patient's link alone uses it); resend a dead or failed message
 * (POST /api/notifications/{id}/retry). A refusal shows its detail next to
 * the appointment, and a taken time its alternatives, one click each.
 *
 * Polling: every 5 s in the background, each GET with the ETag of the
 * answer it already has (304: nothing changed); a poll begun before an
 * action's answer is dropped when it lands after it. Patient and doctor names
 * are read once per screen.
 */
import { html, useRef, useState } from "../../vendor/htm-preact-standalone.js";
import { api, query } from "../api.js";
import { t, tn } from "../i18n.js";
import { addDays, dayIn, formatDay, formatTime } from "../time.js";
import { Notice, ProblemBox, ScreenTitle, boxWordsLang, useAction, usePoll } from "../ui.js";

const POLL_MS = 5000;
/* Statuses the API still lets staff move or offer anew. */
const MOVABLE = new Set(["booked", "cancelled", "no_show", "conflict"]);
const RETRYABLE = new Set(["dead", "failed"]);

/* GETs that remember their last answer and send its ETag: a 304 gives the
 * remembered JSON back. Returns { json, problem }. */
function useCachedGet() {
  const cache = useRef(new Map());
  return async (path, opts) => {
    const known = cache.current.get(path);
    const r = await api("GET", path, { ...opts, etag: known && known.etag });
    if (r.notModified && known) return { json: known.json, problem: null };
    if (r.ok) {
      cache.current.set(path, { etag: r.etag, json: r.json });
      return { json: r.json, problem: null };
    }
    return { json: null, problem: r.problem };
  };
}

/* "Tuesday, 1 December 2026, 09:30–10:00" in the clinic's zone. */
function span(start, end, zone) {
  const day = formatTime(start, zone, "date");
  const from = formatTime(start, zone, "time");
  return end ? t("offers.span", { day, from, to: formatTime(end, zone, "time") })
    : t("offers.at", { day, time: from });
}

function optionNumber(o, i) {
  return typeof o.option === "number" ? o.option : i + 1;
}

/* The offer's state for people: used (which option), closed (the
 * appointment was moved or finished otherwise), expired, or open. */
function offerState(offer, appt, now) {
  if (offer.used_at || typeof offer.used_option === "number") return "used";
  if (!MOVABLE.has(appt.status)) return "closed";
  if (Date.parse(offer.expires_at) <= now) return "expired";
  return "open";
}

function Messages({ offer, busy, onRetry }) {
  const notes = offer.notifications || [];
  if (!notes.length) return html`<p class="muted">${t("offers.no_messages")}</p>`;
  return html`<div class="table-wrap"><table class="offers-messages">
    <caption class="visually-hidden">${t("offers.messages_caption")}</caption>
    <thead><tr>
      <th scope="col">${t("offers.channel")}</th>
      <th scope="col">${t("offers.state")}</th>
      <th scope="col">${t("offers.last_error")}</th>
      <th scope="col"><span class="visually-hidden">${t("offers.actions")}</span></th>
    </tr></thead>
    <tbody>${notes.map((n) => html`<tr key=${n.id} data-notification=${n.id}>
      <th scope="row">${t("offers.channel_" + n.channel)}</th>
      <td><span class=${"badge " + n.status} data-status=${n.status}>
        ${t("offers.msg_" + n.status)}</span>
        ${n.attempts > 0 && html` <span class="offers-tries">${tn("offers.tries", n.attempts)}</span>`}</td>
      <td class="offers-error" lang=${boxWordsLang(n.last_error || n.reason)}>
        ${n.last_error || n.reason || ""}</td>
      <td>${RETRYABLE.has(n.status) && html`<button type="button" class="secondary"
        disabled=${busy} onClick=${() => onRetry(n)}>
        ${t("offers.resend", { channel: t("offers.channel_" + n.channel) })}</button>`}</td>
    </tr>`)}</tbody>
  </table></div>`;
}

/* latest: the newest of the appointment's offers, the one whose options
 * can be booked from here (an older one's times went to the patient
 * before, and the newer offer is what the patient was told last). */
function Offer({ offer, appt, latest, zone, now, busy, onRebook, onRetry }) {
  const state = offerState(offer, appt, now);
  const movable = MOVABLE.has(appt.status);
  const options = offer.options || [];
  let summary;
  if (state === "used") {
    const chosen = options.find((o, i) => optionNumber(o, i) === offer.used_option);
    summary = chosen
      ? t("offers.used_option", { n: offer.used_option, when: span(chosen.start, chosen.end, zone) })
      : t("offers.used");
  } else if (state === "closed") {
    summary = t("offers.closed");
  } else if (state === "expired") {
    summary = t("offers.expired", { when: formatTime(offer.expires_at, zone) });
  } else {
    summary = t("offers.open_until", { when: formatTime(offer.expires_at, zone) });
  }
  return html`<section class=${"offers-offer " + state} data-offer=${offer.id} data-state=${state}>
    <h3>${t("offers.offer_made", { when: formatTime(offer.created_at, zone) })}</h3>
    <p class="offers-state"><span class=${"badge " + state}>${t("offers.state_" + state)}</span>
      ${" "}${summary}</p>
    ${options.length === 0
      ? html`<p>${t("offers.no_options")}</p>`
      : html`<ol class="offers-options">${options.map((o, i) => {
        const n = optionNumber(o, i);
        const chosen = state === "used" && n === offer.used_option;
        const can = movable && latest && Date.parse(o.start) > now;
        return html`<li key=${n} data-option=${n}>
          <span class="offers-when">${t("offers.option", { n, when: span(o.start, o.end, zone) })}</span>
          ${chosen && html` <strong>${t("offers.chosen")}</strong>`}
          ${can && html`<button type="button" disabled=${busy} onClick=${() => onRebook(o.start)}>
            ${t("offers.rebook_option", { n })}</button>`}
        </li>`;
      })}</ol>`}
    <h4>${t("offers.messages")}</h4>
    <${Messages} offer=${offer} busy=${busy} onRetry=${onRetry} />
  </section>`;
}

function Item({ appt, offers, patient, doctor, moved, zone, now, refresh }) {
  const [busy, problem, run] = useAction();
  const [notice, setNotice] = useState("");
  const head = useRef(null);
  const name = patient ? patient.name : t("offers.patient_unknown");
  /* The button pressed is gone after an action: the focus goes to the
   * card's heading (WCAG 2.4.3), the status line under it says what happened. */
  const done = () => {
    if (head.current) head.current.focus();
    refresh();
  };

  const rebook = async (start) => {
    setNotice("");
    const r = await run(() => api("POST", `/api/appointments/${appt.id}/rebook`, { body: { start } }));
    if (r && r.ok) {
      setNotice(t("offers.rebooked", { name, when: span(r.json.appointment.start, r.json.appointment.end, zone) }));
      done();
    }
  };
  const offer = async () => {
    setNotice("");
    const r = await run(() => api("POST", `/api/appointments/${appt.id}/reschedule`));
    if (r && r.ok) {
      setNotice(r.json.options && r.json.options.length ? t("offers.offered") : t("offers.offered_none"));
      done();
    }
  };
  const retry = async (n) => {
    setNotice("");
    const r = await run(() => api("POST", `/api/notifications/${n.id}/retry`));
    if (r && r.ok) {
      setNotice(t("offers.resent", { channel: t("offers.channel_" + n.channel) }));
      done();
    }
  };

  const states = offers.map((o) => offerState(o, appt, now));
  const canOffer = MOVABLE.has(appt.status) && !states.includes("open") && !states.includes("used");
  const alternatives = problem && Array.isArray(problem.alternatives) ? problem.alternatives : [];
  const headId = "offers-appt-" + appt.id;
  return html`<article class="offers-item" aria-labelledby=${headId} data-appointment=${appt.id}
    data-status=${appt.status}>
    <h2 id=${headId} tabindex="-1" ref=${head}>${name}</h2>
    <p class="offers-appt">
      <span class=${"badge " + appt.status}>${t("offers.status_" + appt.status)}</span>
      ${" "}${t("offers.appt", { when: span(appt.start, appt.end, zone),
        doctor: doctor ? doctor.name : t("offers.doctor_unknown") })}
    </p>
    ${appt.conflict_reason && html`<p class="offers-reason">
      ${t("offers.conflict_reason", { reason: appt.conflict_reason })}</p>`}
    ${appt.status === "rescheduled" && html`<p class="offers-moved">${moved
      ? t("offers.moved_to", { when: span(moved.start, moved.end, zone) })
      : t("offers.moved")}</p>`}
    ${offers.length === 0 && html`<p>${t("offers.none")}</p>`}
    ${offers.map((o, i) => html`<${Offer} key=${o.id} offer=${o} appt=${appt} latest=${i === 0} zone=${zone} now=${now}
      busy=${busy} onRebook=${rebook} onRetry=${retry} />`)}
    ${canOffer && html`<div class="actions">
      <button type="button" disabled=${busy} onClick=${offer}>
        ${offers.length ? t("offers.make_new") : t("offers.make")}</button></div>`}
    <${ProblemBox} problem=${problem}>
      ${alternatives.length > 0 && html`<p>${t("offers.alternatives")}</p>
        <ul class="offers-alternatives">${alternatives.map((a) => html`<li key=${a.start}>
          <button type="button" class="secondary" disabled=${busy} onClick=${() => rebook(a.start)}>
            ${t("offers.rebook_to", { when: span(a.start, a.end, zone) })}</button></li>`)}</ul>`}
    <//>
    <${Notice} text=${notice} />
  </article>`;
}

/* Whether a rescheduled appointment belongs on this screen: it was a
 * no-show or a conflict, or it has an offer. */
function relevant(a, offered) {
  if (a.status !== "rescheduled") return true;
  return Boolean(a.no_show_at || a.conflict_reason || offered.has(a.id));
}

export default function Offers({ app }) {
  const zone = app.clinic.timezone;
  const day = /^\d{4}-\d{2}-\d{2}$/.test(app.params.day || "") ? app.params.day : dayIn(zone);
  const get = useCachedGet();
  const names = useRef({ patients: new Map(), doctors: new Map() });
  const [data, setData] = useState(null);
  const [problem, setProblem] = useState(null);
  const [, setTick] = useState(0);
  /* actions done here: a load begun before the latest one is stale (its
   * answer may predate the action) and is dropped, as on Today */
  const changes = useRef(0);

  const load = async (opts) => {
    const seq = changes.current;
    const range = { from: day, to: day };
    const [noShow, conflict, moved, offers, doctors] = await Promise.all([
      get("/api/appointments" + query({ ...range, status: "no_show" }), opts),
      get("/api/appointments" + query({ ...range, status: "conflict" }), opts),
      get("/api/appointments" + query({ ...range, status: "rescheduled" }), opts),
      get("/api/offers" + query(range), opts),
      get("/api/doctors", opts),
    ]);
    const failed = [noShow, conflict, moved, offers, doctors].find((r) => r.problem);
    setProblem(failed ? failed.problem : null);
    if (doctors.json) for (const d of doctors.json.doctors) names.current.doctors.set(d.id, d);
    const offerList = (offers.json && offers.json.offers) || [];
    const offered = new Set(offerList.map((o) => o.appointment_id));

    const byId = new Map();
    for (const r of [noShow, conflict, moved])
      for (const a of (r.json && r.json.appointments) || []) if (relevant(a, offered)) byId.set(a.id, a);
    // appointments of the day's offers that are in none of the lists
    const others = [...offered].filter((id) => !byId.has(id));
    const extra = await Promise.all(others.map((id) => get(`/api/appointments/${id}`, opts)));
    for (const r of extra) if (r.json) byId.set(r.json.id, r.json);
    // where rebooked appointments went
    const movedTo = new Map();
    const targets = [...byId.values()].filter((a) => a.rescheduled_to);
    const went = await Promise.all(targets.map((a) => get(`/api/appointments/${a.rescheduled_to}`, opts)));
    targets.forEach((a, i) => went[i].json && movedTo.set(a.id, went[i].json));
    // names: read once
    const pats = names.current.patients;
    const missing = [...new Set([...byId.values()].map((a) => a.patient_id))].filter((id) => !pats.has(id));
    const got = await Promise.all(missing.map((id) => api("GET", `/api/patients/${id}`, opts)));
    got.forEach((r, i) => r.ok && pats.set(missing[i], r.json));

    const appts = [...byId.values()].sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
    if (changes.current !== seq) return; /* stale: an action was done meanwhile */
    setData({ day, appts, offerList, movedTo, offersMissing: Boolean(offers.problem) });
  };

  usePoll(load, POLL_MS, [app.params.day || ""]); /* the day asked for: see today.js */
  const refresh = () => {
    changes.current += 1;
    return load({}).catch(() => setTick((n) => n + 1));
  };

  const go = (d) => app.navigate("offers", { day: d });
  const today = dayIn(zone);
  const now = Date.now();
  const current = data && data.day === day ? data : null;

  return html`<${ScreenTitle} text=${t("offers.title")} />
    <div class="offers-day" role="group" aria-label=${t("offers.day_nav")}>
      <button type="button" class="secondary" onClick=${() => go(addDays(day, -1))}>
        ${t("offers.prev")}</button>
      <p class="offers-dayname" aria-live="polite">${formatDay(day)}</p>
      <button type="button" class="secondary" onClick=${() => go(addDays(day, 1))}>
        ${t("offers.next")}</button>
      ${day !== today && html`<button type="button" class="secondary" onClick=${() => go(today)}>
        ${t("offers.today")}</button>`}
      <label class="offers-pick">${t("offers.pick_day")}
        <input type="date" value=${day} onChange=${(e) => e.target.value && go(e.target.value)} /></label>
    </div>
    <${ProblemBox} problem=${problem} />
    ${!current
      ? html`<p class="loading">${t("app.loading")}</p>`
      : current.appts.length === 0
        ? html`<p class="offers-empty">${t("offers.empty")}</p>`
        : current.appts.map((a) => html`<${Item} key=${a.id} appt=${a}
            offers=${current.offerList.filter((o) => o.appointment_id === a.id)
              .sort((x, y) => Date.parse(y.created_at) - Date.parse(x.created_at))}
            patient=${names.current.patients.get(a.patient_id)}
            doctor=${names.current.doctors.get(a.doctor_id)}
            moved=${current.movedTo.get(a.id)} zone=${zone} now=${now} refresh=${refresh} />`)}`;
}
