/*
 * screens/book.js — the Book screen (admin, front desk): find or add the
 * patient, pick a doctor, a day and a length, see the free times, book one
 * with a click. Made for speed at the desk: type part of a name or phone
 * number, pick the patient, click a time; every step works by keyboard.
 *
 * API (docs/openapi.yaml): GET /api/patients?q= (name, email or phone
 * contains; searched 250 ms after the last key, an older answer arriving
 * late is dropped), POST /api/patients (a field's problem shows next to
 * the field), GET /api/doctors, GET /api/doctors/{id}/available-slots for
 * one day of the clinic (`from` = `to` = the day), POST /api/appointments
 * with the slot's `start` exactly as the API gave it. A 409 slot-taken
 * answer brings up to three `alternatives`: each is a button that books it
 * at once, with the doctor and length of the refused request (not what
 * the selects show by then). The free times are read again after every booking attempt,
 * whatever its outcome.
 *
 * The hash parameter `patient` (an id: navigate("book", {patient: id}))
 * preselects the patient. Times are shown in the clinic's zone (time.js).
 */
import { html, useEffect, useRef, useState } from "../../vendor/htm-preact-standalone.js";
import { api, query } from "../api.js";
import { t, tn } from "../i18n.js";
import { addDays, dayIn, formatDay, formatTime } from "../time.js";
import { Field, ProblemBox, ScreenTitle, boxLang, fieldProps, useAction } from "../ui.js";

const SEARCH_DELAY_MS = 250;
const SEARCH_LIMIT = 10;
const MAX_SLOTS = 4; // the length select offers 1 to 4 of the doctor's slots
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

/* What to send as `q`: a phone number typed with spaces, dashes, slashes
 * or brackets ("0151 123-45") is searched by its digits (the API stores
 * E.164 and matches "contains"); anything else as typed, trimmed. */
export function searchTerm(text) {
  const s = text.trim();
  if (/^\+?[\d\s()/.-]+$/.test(s) && /\d/.test(s)) return s.replace(/[\s()/.-]/g, "");
  return s;
}

/* The search text as a first guess for the new patient's form. */
function guessFields(text) {
  const s = text.trim();
  if (s.includes("@")) return { email: s };
  const term = searchTerm(s);
  if (/^\+?\d+$/.test(term)) return { phone: term };
  return { name: s };
}

/* Focus the element with this id once it is rendered. */
function focusSoon(id) {
  setTimeout(() => {
    const el = document.getElementById(id);
    if (el) el.focus();
  }, 0);
}

function contactLine(p) {
  return [p.phone, p.email].filter(Boolean).join(" · ") || t("book.no_contact");
}

/* --- the patient: search, choose, or add ----------------------------------- */

function Results({ results, onChoose }) {
  const onKey = (ev) => {
    if (ev.key !== "ArrowDown" && ev.key !== "ArrowUp" && ev.key !== "Escape") return;
    ev.preventDefault();
    if (ev.key === "Escape") return focusSoon("book-search");
    const buttons = [...ev.currentTarget.querySelectorAll("button")];
    const i = buttons.indexOf(document.activeElement);
    const next = ev.key === "ArrowDown" ? i + 1 : i - 1;
    if (next < 0) return focusSoon("book-search");
    if (next < buttons.length) buttons[next].focus();
  };
  if (!results.length) return null;
  return html`<ul class="book-results" aria-label=${t("book.results")} onKeyDown=${onKey}>
      ${results.map((p) => html`<li key=${p.id}>
        <button type="button" class="book-result" data-patient=${p.id} onClick=${() => onChoose(p)}>
          <span class="book-name">${p.name}</span>
          <span>${p.phone || ""}</span>
          <span>${p.email || ""}</span>
        </button></li>`)}
    </ul>`;
}

function NewPatient({ initial, onCreated, onCancel }) {
  const [f, setF] = useState({ name: "", phone: "", email: "", notify_email: true,
    notify_sms: true, ...initial });
  const [busy, problem, run] = useAction();
  const set = (k) => (ev) => setF({ ...f, [k]: ev.target.type === "checkbox"
    ? ev.target.checked : ev.target.value });

  useEffect(() => focusSoon(initial.name ? "book-new-phone" : "book-new-name"), []);

  const submit = async (ev) => {
    ev.preventDefault();
    const body = { name: f.name.trim(), notify_email: f.notify_email, notify_sms: f.notify_sms };
    if (f.phone.trim()) body.phone = searchTerm(f.phone);
    if (f.email.trim()) body.email = f.email.trim();
    const r = await run(() => api("POST", "/api/patients", { body }));
    if (r && r.ok) return onCreated(r.json);
    // the first field the box named takes the focus (its error is read out)
    const named = r && r.problem && Array.isArray(r.problem.errors) ? r.problem.errors : [];
    const first = ["name", "phone", "email"].find((k) => named.some((e) => e.field === k));
    if (first) focusSoon("book-new-" + first);
  };
  // the form-wide box only for a problem that names none of the fields
  const fieldNamed = problem && Array.isArray(problem.errors) &&
    problem.errors.some((e) => ["name", "phone", "email"].includes(e.field));

  return html`<form class="book-new" onSubmit=${submit} aria-labelledby="book-new-title" novalidate>
    <h3 id="book-new-title">${t("book.new_title")}</h3>
    ${!fieldNamed && html`<${ProblemBox} problem=${problem} />`}
    <${Field} id="book-new-name" label=${t("book.new_name")} problem=${problem} field="name">
      <input ...${fieldProps("book-new-name", problem, "name")} required maxlength="200"
        autocomplete="off" value=${f.name} onInput=${set("name")} />
    <//>
    <${Field} id="book-new-phone" label=${t("book.new_phone")} problem=${problem} field="phone"
      hint=${t("book.new_phone_hint")}>
      <input ...${fieldProps("book-new-phone", problem, "phone", true)} type="tel"
        autocomplete="off" value=${f.phone} onInput=${set("phone")} />
    <//>
    <${Field} id="book-new-email" label=${t("book.new_email")} problem=${problem} field="email">
      <input ...${fieldProps("book-new-email", problem, "email")} type="email"
        autocomplete="off" spellcheck="false" value=${f.email} onInput=${set("email")} />
    <//>
    <fieldset class="book-notify">
      <legend>${t("book.new_notify")}</legend>
      <label><input type="checkbox" name="notify_email" checked=${f.notify_email}
        onChange=${set("notify_email")} /> ${t("book.new_notify_email")}</label>
      <label><input type="checkbox" name="notify_sms" checked=${f.notify_sms}
        onChange=${set("notify_sms")} /> ${t("book.new_notify_sms")}</label>
    </fieldset>
    <div class="actions">
      <button type="submit" disabled=${busy}>${t("book.new_save")}</button>
      <button type="button" class="secondary" onClick=${onCancel}>${t("common.cancel")}</button>
    </div>
  </form>`;
}

function PatientPicker({ patient, onChoose, need }) {
  const [text, setText] = useState("");
  const [found, setFound] = useState(null); // { term, patients } of the last answer
  const [problem, setProblem] = useState(null);
  const [adding, setAdding] = useState(null); // the new-patient form's first guess
  const seq = useRef(0);
  const term = searchTerm(text);

  const search = async (q, my) => {
    try {
      const r = await api("GET", "/api/patients" + query({ q, limit: SEARCH_LIMIT }));
      if (my !== seq.current) return; // a later search is under way
      setProblem(r.ok ? null : r.problem);
      setFound(r.ok ? { term: q, patients: r.json.patients } : null);
    } catch (e) {
      if (my === seq.current) setProblem({ status: 0, detail: t("problem.unreachable") });
    }
  };

  useEffect(() => {
    const my = ++seq.current;
    if (!term) {
      setFound(null);
      setProblem(null);
      return undefined;
    }
    const timer = setTimeout(() => search(term, my), SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [term]);

  const choose = (p) => {
    setText("");
    setFound(null);
    setAdding(null);
    onChoose(p);
    focusSoon("book-chosen");
  };

  if (patient)
    return html`<div class="book-chosen" id="book-chosen" tabindex="-1">
      <p><span class="visually-hidden">${t("book.chosen")}: </span>
        <strong class="book-name">${patient.name}</strong><br />
        <span>${contactLine(patient)}</span></p>
      <button type="button" class="secondary" onClick=${() => { onChoose(null); focusSoon("book-search"); }}>
        ${t("book.change")}</button>
    </div>`;

  const shown = found && found.term === term ? found.patients : null;
  const onKey = (ev) => {
    if (ev.key === "Enter") {
      // at once, without waiting for the pause
      ev.preventDefault();
      if (term) search(term, ++seq.current);
    } else if (ev.key === "ArrowDown") {
      const first = document.querySelector(".book-results button");
      if (first) {
        ev.preventDefault();
        first.focus();
      }
    }
  };

  return html`<div class="book-picker">
    <${Field} id="book-search" label=${t("book.search")} problem=${problem} field="q"
      hint=${t("book.search_hint")}>
      <input ...${fieldProps("book-search", problem, "q", true)} type="search" maxlength="200"
        autocomplete="off" spellcheck="false" value=${text}
        onInput=${(e) => setText(e.target.value)} onKeyDown=${onKey} />
    <//>
    ${need && html`<p class="field-error" role="alert">${t("book.need_patient")}</p>`}
    ${problem && !(problem.errors || []).some((e) => e.field === "q")
      && html`<${ProblemBox} problem=${problem} />`}
    <p class="muted book-found" role="status">${shown
      ? (shown.length ? tn("book.found", shown.length) : t("book.none_found", { q: text.trim() }))
      : ""}</p>
    ${shown && html`<${Results} results=${shown} onChoose=${choose} />`}
    ${adding
      ? html`<${NewPatient} initial=${adding} onCreated=${choose} onCancel=${() => {
        setAdding(null);
        focusSoon("book-new-open");
      }} />`
      : html`<div class="actions"><button type="button" class="secondary" id="book-new-open"
          onClick=${() => setAdding(guessFields(text))}>${t("book.new")}</button></div>`}
  </div>`;
}

/* --- the outcome of a booking ------------------------------------------------ */

function Booked({ outcome, zone, app, onAnother }) {
  const a = outcome.appointment;
  const day = dayIn(zone, a.start);
  const toToday = (ev) => {
    ev.preventDefault();
    app.navigate("today", { day });
  };
  return html`<div class="book-confirm" role="status" id="book-confirm" tabindex="-1">
    <p>${t("book.booked", {
      patient: outcome.patient.name,
      doctor: outcome.doctor ? outcome.doctor.name : "",
      date: formatTime(a.start, zone, "date"),
      time: formatTime(a.start, zone, "time"),
      end: formatTime(a.end, zone, "time"),
    })}</p>
    <div class="actions">
      <a class="button secondary" href=${"#/today" + query({ day })} onClick=${toToday}>
        ${t("book.show_today")}</a>
      <button type="button" class="secondary" onClick=${onAnother}>${t("book.another")}</button>
    </div>
  </div>`;
}

function Taken({ problem, zone, busy, onBook }) {
  const alts = problem.alternatives || [];
  return html`<div class="problem book-taken" role="alert" id="book-taken">
    <p>${t("book.taken")} ${problem.detail
      ? html`<span class="muted" lang=${boxLang(problem)}>(${problem.detail})</span>` : null}</p>
    ${alts.length
      ? html`<p>${t("book.alternatives")}</p>
        <ul class="book-slots">${alts.map((s) => html`<li key=${s.start}>
          <button type="button" data-start=${s.start} disabled=${busy} onClick=${() => onBook(s.start)}>
            ${t("book.alternative", { day: formatTime(s.start, zone, "dateShort"),
              time: formatTime(s.start, zone, "time") })}</button></li>`)}</ul>`
      : html`<p>${t("book.no_alternatives")}</p>`}
  </div>`;
}

/* --- the screen ------------------------------------------------------------ */

export default function Book({ app }) {
  const zone = app.clinic.timezone;
  const [patient, setPatient] = useState(null);
  const [patientProblem, setPatientProblem] = useState(null);
  const [needPatient, setNeedPatient] = useState(false);
  const [doctors, setDoctors] = useState(null);
  const [doctorsProblem, setDoctorsProblem] = useState(null);
  const [doctorId, setDoctorId] = useState("");
  const [day, setDay] = useState(dayIn(zone));
  const [slotCount, setSlotCount] = useState(1);
  const [reason, setReason] = useState("");
  const [slots, setSlots] = useState({ key: "", list: null, problem: null });
  const [reload, setReload] = useState(0);
  const [outcome, setOutcome] = useState(null); // {kind: "booked"|"taken"|"problem", ...}
  const [busy, , run] = useAction();
  const slotSeq = useRef(0);

  const doctor = doctors && doctors.find((d) => d.id === doctorId);
  const duration = doctor ? doctor.slot_minutes * slotCount : 0;

  // the doctors, once
  useEffect(() => {
    api("GET", "/api/doctors").then((r) => {
      if (!r.ok) return setDoctorsProblem(r.problem);
      setDoctors(r.json.doctors);
      if (r.json.doctors.length) setDoctorId(r.json.doctors[0].id);
    }, () => setDoctorsProblem({ status: 0, detail: t("problem.unreachable") }));
  }, []);

  // a patient named in the address (another screen's "Book" link)
  useEffect(() => {
    const id = app.params.patient;
    if (!id) return;
    api("GET", "/api/patients/" + encodeURIComponent(id)).then((r) => {
      if (r.ok) {
        setPatient(r.json);
        setPatientProblem(null);
      } else setPatientProblem(r.problem);
    }, () => setPatientProblem({ status: 0, detail: t("problem.unreachable") }));
  }, [app.params.patient]);

  // the free times of the day
  const slotKey = doctor && DAY_RE.test(day) ? `${doctor.id}|${day}|${duration}` : "";
  useEffect(() => {
    if (!slotKey) return;
    const my = ++slotSeq.current;
    setSlots((s) => (s.key === slotKey ? s : { key: slotKey, list: null, problem: null }));
    const path = `/api/doctors/${encodeURIComponent(doctor.id)}/available-slots` +
      query({ from: day, to: day, duration });
    api("GET", path).then((r) => {
      if (my !== slotSeq.current) return;
      setSlots({ key: slotKey, list: r.ok ? r.json.slots : null, problem: r.ok ? null : r.problem });
    }, () => {
      if (my === slotSeq.current)
        setSlots({ key: slotKey, list: null, problem: { status: 0, detail: t("problem.unreachable") } });
    });
  }, [slotKey, reload]);

  const choosePatient = (p) => {
    setPatient(p);
    setNeedPatient(false);
    setPatientProblem(null);
    setOutcome(null);
  };

  /* `asked`: the doctor and length the time was offered for (a 409's
   * alternatives keep those of the request they answer, whatever the
   * selects show by the time one is clicked). */
  const book = async (start, asked = { doctor, duration }) => {
    if (!patient) {
      setNeedPatient(true);
      focusSoon("book-search");
      return;
    }
    const body = { doctor_id: asked.doctor.id, patient_id: patient.id, start,
      duration_minutes: asked.duration };
    if (reason.trim()) body.reason = reason;
    const forPatient = patient;
    const withDoctor = asked.doctor;
    const r = await run(() => api("POST", "/api/appointments", { body }));
    if (!r) setOutcome({ kind: "problem", problem: { status: 0, detail: t("problem.unreachable") } });
    else if (r.status === 201) {
      setOutcome({ kind: "booked", appointment: r.json, patient: forPatient, doctor: withDoctor });
      setReason("");
    } else if (r.status === 409 && r.problem && Array.isArray(r.problem.alternatives))
      setOutcome({ kind: "taken", problem: r.problem, asked });
    else setOutcome({ kind: "problem", problem: r.problem });
    setReload((n) => n + 1);
    focusSoon(r && r.status === 201 ? "book-confirm" : "book-outcome");
  };

  const another = () => {
    choosePatient(null);
    focusSoon("book-search");
  };

  const problem = outcome && outcome.kind === "problem" ? outcome.problem : null;
  const list = slots.key === slotKey ? slots.list : null;
  const slotsProblem = slots.key === slotKey ? slots.problem : null;

  return html`<div class="book">
    <${ScreenTitle} text=${t("book.title")} />
    <div class="book-layout">
      <div class="book-form">
        <section aria-labelledby="book-patient-title">
          <h2 id="book-patient-title">${t("book.patient")}</h2>
          <${ProblemBox} problem=${patientProblem} />
          <${PatientPicker} patient=${patient} onChoose=${choosePatient} need=${needPatient} />
        </section>
        <section aria-labelledby="book-when-title">
          <h2 id="book-when-title">${t("book.when")}</h2>
          <${ProblemBox} problem=${doctorsProblem} />
          ${doctors && !doctors.length && html`<p>${t("book.no_doctors")}</p>`}
          ${doctors && doctors.length > 0 && html`
            <${Field} id="book-doctor" label=${t("book.doctor")}>
              <select id="book-doctor" value=${doctorId}
                onChange=${(e) => { setDoctorId(e.target.value); setSlotCount(1); }}>
                ${doctors.map((d) => html`<option key=${d.id} value=${d.id}>${d.name}</option>`)}
              </select>
            <//>
            <div class="book-day">
              <${Field} id="book-day" label=${t("book.day")}>
                <input id="book-day" type="date" required value=${day}
                  onChange=${(e) => e.target.value && setDay(e.target.value)} />
              <//>
              <div class="actions">
                <button type="button" class="secondary" onClick=${() => setDay(addDays(day, -1))}>
                  ${t("book.prev_day")}</button>
                <button type="button" class="secondary" onClick=${() => setDay(dayIn(zone))}>
                  ${t("book.today")}</button>
                <button type="button" class="secondary" onClick=${() => setDay(addDays(day, 1))}>
                  ${t("book.next_day")}</button>
              </div>
            </div>
            ${doctor && html`<${Field} id="book-length" label=${t("book.length")}>
              <select id="book-length" value=${String(slotCount)}
                onChange=${(e) => setSlotCount(Number(e.target.value))}>
                ${[1, 2, 3, 4].filter((n) => n <= MAX_SLOTS && n * doctor.slot_minutes <= 480)
                  .map((n) => html`<option key=${n} value=${String(n)}>
                    ${t("book.length_option", { min: n * doctor.slot_minutes, slots: tn("book.slots", n) })}
                  </option>`)}
              </select>
            <//>`}
            <${Field} id="book-reason" label=${t("book.reason")} problem=${problem} field="reason">
              <textarea ...${fieldProps("book-reason", problem, "reason")} rows="2" maxlength="500"
                value=${reason} onInput=${(e) => setReason(e.target.value)}></textarea>
            <//>`}
        </section>
      </div>

      <section class="book-times" aria-labelledby="book-times-title">
        <h2 id="book-times-title">${t("book.free_times", { day: DAY_RE.test(day) ? formatDay(day) : "" })}
          ${doctor && html`<span class="muted"> · ${doctor.name}</span>`}</h2>
        <div id="book-outcome" tabindex="-1">
          ${outcome && outcome.kind === "booked" && html`<${Booked} outcome=${outcome} zone=${zone}
            app=${app} onAnother=${another} />`}
          ${outcome && outcome.kind === "taken" && html`<${Taken} problem=${outcome.problem} zone=${zone}
            busy=${busy} onBook=${(start) => book(start, outcome.asked)} />`}
          ${problem && !(problem.errors || []).some((e) => e.field === "reason")
            && html`<${ProblemBox} problem=${problem} />`}
        </div>
        ${busy && html`<p class="muted" role="status">${t("book.booking")}</p>`}
        <${ProblemBox} problem=${slotsProblem} />
        ${doctor && !list && !slotsProblem && html`<p class="loading">${t("app.loading")}</p>`}
        ${list && list.length > 0 && html`
          <p class="muted">${patient ? t("book.pick", { name: patient.name }) : t("book.pick_first")}</p>
          <ul class="book-slots" id="book-slots">
            ${list.map((s) => html`<li key=${s.start}>
              <button type="button" class="secondary" data-start=${s.start} disabled=${busy}
                onClick=${() => book(s.start)}>${formatTime(s.start, zone, "time")}</button></li>`)}
          </ul>`}
        ${list && list.length === 0 && html`<div class="book-empty">
          <p>${t("book.no_slots", { day: formatDay(day) })}</p>
          <button type="button" onClick=${() => setDay(addDays(day, 1))}>${t("book.try_next")}</button>
        </div>`}
      </section>
    </div>
  </div>`;
}
