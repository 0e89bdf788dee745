/*
 * screens/doctors.js — the Doctors screen: an admin sees every doctor, adds
 * one, changes a doctor's name and slot length and their working hours; a
 * doctor sees only themselves (session.doctor_id) and may change their own
 * hours (the API allows nothing more: docs/security.md, "Roles").
 *
 * Working hours are the schedule of docs/openapi.yaml: weekly hours (a
 * weekday 1 = Monday ... 7 and a start-end range; a day may have several
 * ranges, or none) and exceptions by date (closed, or other hours). The
 * week is a grid, Monday to Sunday, one row per day with its ranges; the
 * exceptions are a list. Times are wall-clock "HH:MM" in the clinic's zone;
 * an end of "24:00" (midnight) is shown as 00:00, which as an end can only
 * mean midnight, and sent back as "24:00".
 *
 * Saving sends the whole schedule (PUT) with the ETag it was read with. A
 * refusal names entries by their place in what was sent ("weekly[2].end"):
 * the rows are sent in the order shown, and the index maps back to the row,
 * whose message shows next to it. A 412 means someone else changed the
 * hours or the slot length meanwhile: the screen says so and offers to load
 * them again (what was typed here is then dropped).
 *
 * The schedule's ETag includes the doctor's revision, so saving the name or
 * slot length changes it: after such a save the schedule is read again and
 * its new ETag taken only if the hours are still what this screen loaded;
 * else the next save of the hours gets the 412, as it should.
 */
import { html, useEffect, useRef, useState } from "../../vendor/htm-preact-standalone.js";
import { api, query } from "../api.js";
import { locale, t } from "../i18n.js";
import { dayIn, formatDay } from "../time.js";
import { Field, Notice, ProblemBox, ScreenTitle, boxLang, fieldProps, problemText, useAction } from "../ui.js";

const WEEKDAYS = [1, 2, 3, 4, 5, 6, 7];

/* The weekday's name in the UI's language (1 January 2024 was a Monday). */
function dayName(weekday) {
  return new Intl.DateTimeFormat(locale(), { weekday: "long", timeZone: "UTC" })
    .format(new Date(Date.UTC(2024, 0, weekday)));
}

let nextKey = 1;
const key = () => nextKey++;

/* API "24:00" <-> the time input's "00:00" (only ever for an end). */
const endIn = (v) => (v === "24:00" ? "00:00" : v || "");
const endOut = (v) => (v === "00:00" ? "24:00" : v);

/* The form's rows from a schedule as the API gives it. */
function toRows(s) {
  return {
    weekly: s.weekly.map((w) => ({ key: key(), weekday: w.weekday, start: w.start, end: endIn(w.end) })),
    exceptions: s.exceptions.slice()
      .sort((a, b) => (a.date + (a.start || "")).localeCompare(b.date + (b.start || "")))
      .map((e) => ({ key: key(), date: e.date, closed: !!e.closed, start: e.start || "",
        end: endIn(e.end) })),
  };
}

/* What PUT sends, and which row each entry came from (for the errors).
 * Weekly rows go day by day, each day's ranges in the order shown. */
function toBody(rows) {
  const weeklyRows = WEEKDAYS.flatMap((d) => rows.weekly.filter((r) => r.weekday === d));
  return {
    body: {
      weekly: weeklyRows.map((r) => ({ weekday: r.weekday, start: r.start, end: endOut(r.end) })),
      exceptions: rows.exceptions.map((e) => (e.closed ? { date: e.date, closed: true }
        : { date: e.date, closed: false, start: e.start, end: endOut(e.end) })),
    },
    keys: { weekly: weeklyRows.map((r) => r.key), exceptions: rows.exceptions.map((e) => e.key) },
  };
}

/* The slot length typed: a number when it is one, else the text as typed,
 * which the API refuses with its message next to the field. */
function slotValue(typed) {
  const n = Number(typed);
  return typed.trim() !== "" && Number.isInteger(n) ? n : typed;
}

/* The hours of two schedules are the same (not their ETags). */
function sameHours(a, b) {
  const norm = (s) => JSON.stringify({ w: s.weekly, e: s.exceptions });
  return norm(a) === norm(b);
}

/* A problem's errors by row: { [rowKey]: { messages: [...], fields: Set } },
 * and whether every error found its row. */
function errorsByRow(problem, keys) {
  const out = {};
  let all = true;
  for (const e of (problem && problem.errors) || []) {
    const m = /^(weekly|exceptions)\[(\d+)\](?:\.(\w+))?$/.exec(e.field || "");
    const rowKey = m && keys[m[1]][Number(m[2])];
    if (!rowKey) {
      all = false;
      continue;
    }
    const slot = out[rowKey] || (out[rowKey] = { messages: [], fields: new Set(), lang: boxLang(problem) });
    slot.messages.push(e.message || problem.detail);
    /* an error about the whole entry (start not before end, an overlap)
     * marks its times */
    for (const f of m[3] ? [m[3]] : ["start", "end"]) slot.fields.add(f);
  }
  return { byRow: out, all: all && Object.keys(out).length > 0 };
}

/* A label that names its row for a screen reader: "Monday, hours 2, from"
 * is read, "from" is seen. */
function RowLabel({ htmlFor, ctx, text }) {
  return html`<label for=${htmlFor}><span class="visually-hidden">${ctx + ", "}</span>${text}</label>`;
}

/* "from [time] until [time]" of one row (a weekly range, or an exception's
 * hours). `ctx` names the row for a screen reader ("Monday, hours 2");
 * `err` is the row's errors, whose message the inputs name. */
function Range({ id, ctx, row, err, step, onChange }) {
  const input = (field, label) => {
    const fid = `${id}-${field}`;
    return html`<span class="doctors-pair">
      <${RowLabel} htmlFor=${fid} ctx=${ctx} text=${label} />
      <input id=${fid} type="time" step=${step} required value=${row[field]}
        aria-invalid=${err && err.fields.has(field) ? "true" : undefined}
        aria-describedby=${err ? id + "-error" : undefined}
        onInput=${(e) => onChange(field, e.target.value)} />
    </span>`;
  };
  return html`${input("start", t("doctors.from"))}${input("end", t("doctors.until"))}`;
}

/* A row's Remove button, named after the row. */
function RemoveButton({ ctx, onClick }) {
  return html`<button type="button" class="secondary" onClick=${onClick}>${t("doctors.remove")}<span
    class="visually-hidden">${" (" + ctx + ")"}</span></button>`;
}

function RowError({ id, err }) {
  if (!err) return null;
  return html`<p class="field-error" id=${id + "-error"} lang=${err.lang}>${err.messages.join(" ")}</p>`;
}

/* --- the week grid ---------------------------------------------------------- */

function WeekGrid({ rows, setRows, errs, step }) {
  const update = (k, field, v) => setRows((r) => ({ ...r,
    weekly: r.weekly.map((x) => (x.key === k ? { ...x, [field]: v } : x)) }));
  const add = (weekday) => setRows((r) => {
    const same = r.weekly.filter((x) => x.weekday === weekday);
    const last = same[same.length - 1];
    const row = last
      ? { key: key(), weekday, start: last.end === "00:00" ? "" : last.end, end: "" }
      : { key: key(), weekday, start: "09:00", end: "17:00" };
    return { ...r, weekly: [...r.weekly, row] };
  });
  const remove = (k) => setRows((r) => ({ ...r, weekly: r.weekly.filter((x) => x.key !== k) }));

  return html`<div class="table-wrap"><table class="doctors-week">
    <caption>${t("doctors.weekly")}</caption>
    <thead><tr>
      <th scope="col">${t("doctors.day")}</th>
      <th scope="col">${t("doctors.hours")}</th>
      <th scope="col"><span class="visually-hidden">${t("doctors.more")}</span></th>
    </tr></thead>
    <tbody>${WEEKDAYS.map((d) => {
      const ranges = rows.weekly.filter((x) => x.weekday === d);
      const name = dayName(d);
      return html`<tr key=${d} data-weekday=${d}>
        <th scope="row">${name}</th>
        <td>
          ${ranges.length === 0 ? html`<p class="muted">${t("doctors.no_hours")}</p>` : null}
          ${ranges.map((x, i) => {
            const id = `wk-${x.key}`;
            const err = errs[x.key];
            const ctx = t("doctors.range_label", { day: name, n: i + 1 });
            return html`<div class=${"doctors-range" + (err ? " has-error" : "")} key=${x.key}
              data-row=${id}>
              <${Range} id=${id} ctx=${ctx} row=${x} err=${err} step=${step}
                onChange=${(field, v) => update(x.key, field, v)} />
              <${RemoveButton} ctx=${ctx} onClick=${() => remove(x.key)} />
              <${RowError} id=${id} err=${err} />
            </div>`;
          })}
        </td>
        <td class="doctors-add-cell">
          <button type="button" class="secondary doctors-add"
            onClick=${() => add(d)}>${t("doctors.add_hours")}<span
            class="visually-hidden">${" (" + name + ")"}</span></button>
        </td>
      </tr>`;
    })}</tbody>
  </table></div>`;
}

/* --- the exceptions ------------------------------------------------------------- */

function Exceptions({ rows, setRows, errs, step, zone }) {
  const update = (k, field, v) => setRows((r) => ({ ...r,
    exceptions: r.exceptions.map((x) => (x.key === k ? { ...x, [field]: v } : x)) }));
  const add = () => setRows((r) => ({ ...r, exceptions: [...r.exceptions,
    { key: key(), date: dayIn(zone), closed: true, start: "09:00", end: "12:00" }] }));
  const remove = (k) => setRows((r) => ({ ...r, exceptions: r.exceptions.filter((x) => x.key !== k) }));

  return html`<section class="doctors-exceptions" aria-labelledby="doctors-exceptions-title">
    <h3 id="doctors-exceptions-title">${t("doctors.exceptions")}</h3>
    <p class="hint">${t("doctors.exceptions_help")}</p>
    ${rows.exceptions.length === 0 ? html`<p class="muted">${t("doctors.no_exceptions")}</p>` : null}
    <ul class="doctors-exception-list">${rows.exceptions.map((x, i) => {
      const id = `ex-${x.key}`;
      const err = errs[x.key];
      const ctx = t("doctors.exception_label", { n: i + 1 });
      const dateBad = err && err.fields.has("date");
      const cls = "doctors-exception" + (err ? " has-error" : "");
      return html`<li key=${x.key} class=${cls} data-row=${id}>
        <div class="doctors-exception-fields">
          <div>
            <${RowLabel} htmlFor=${id + "-date"} ctx=${ctx} text=${t("doctors.date")} />
            <input id=${id + "-date"} type="date" required value=${x.date}
              aria-invalid=${dateBad ? "true" : undefined}
              aria-describedby=${[id + "-day", err ? id + "-error" : ""].filter(Boolean).join(" ")}
              onInput=${(e) => update(x.key, "date", e.target.value)} />
            <p class="hint" id=${id + "-day"}>${x.date ? formatDay(x.date) : ""}</p>
          </div>
          <div class="doctors-check">
            <input type="checkbox" id=${id + "-closed"} checked=${x.closed}
              onChange=${(e) => update(x.key, "closed", e.target.checked)} />
            <${RowLabel} htmlFor=${id + "-closed"} ctx=${ctx} text=${t("doctors.closed")} />
          </div>
          ${!x.closed && html`<div class="doctors-range">
            <${Range} id=${id} ctx=${ctx} row=${x} err=${err} step=${step}
              onChange=${(field, v) => update(x.key, field, v)} />
          </div>`}
          <${RemoveButton} ctx=${ctx} onClick=${() => remove(x.key)} />
        </div>
        <${RowError} id=${id} err=${err} />
      </li>`;
    })}</ul>
    <button type="button" class="secondary" onClick=${add}>
      ${t("doctors.add_exception")}</button>
  </section>`;
}

/* --- one doctor ------------------------------------------------------------------ */

/* "Someone else changed it" with a button that loads it again. */
function Stale({ text, onReload }) {
  return html`<div class="problem" role="alert">
    <p>${text}</p>
    <button type="button" onClick=${onReload}>${t("doctors.reload")}</button>
  </div>`;
}

function Details({ doctor, etag, canEdit, onSaved, onReload }) {
  const [name, setName] = useState(doctor.name);
  const [slot, setSlot] = useState(String(doctor.slot_minutes));
  const [notice, setNotice] = useState("");
  const [stale, setStale] = useState(false);
  const [busy, problem, run, setProblem] = useAction();

  useEffect(() => {
    setName(doctor.name);
    setSlot(String(doctor.slot_minutes));
  }, [doctor]);

  if (!canEdit)
    return html`<p class="doctors-slot">${t("doctors.slot_is", { n: doctor.slot_minutes })}</p>`;

  const submit = async (ev) => {
    ev.preventDefault();
    setNotice("");
    const body = { name: name.trim(), slot_minutes: slotValue(slot) };
    const r = await run(() => api("PUT", `/api/doctors/${encodeURIComponent(doctor.id)}`,
      { body, ifMatch: etag }));
    if (!r) return;
    if (r.ok) {
      setNotice(t("common.saved"));
      onSaved(r.json, r.etag);
    } else if (r.status === 412) {
      setProblem(null);
      setStale(true);
    }
  };

  return html`<form class="doctors-details" onSubmit=${submit} noValidate
    aria-labelledby="doctors-details-title">
    <h3 id="doctors-details-title">${t("doctors.details")}</h3>
    ${stale && html`<${Stale} text=${t("doctors.stale_details")} onReload=${onReload} />`}
    <${ProblemBox} problem=${problem} />
    <div class="doctors-details-fields">
      <${Field} id="doctor-name" label=${t("doctors.name")} problem=${problem} field="name">
        <input ...${fieldProps("doctor-name", problem, "name")} autocomplete="off" required
          maxlength="200" value=${name} onInput=${(e) => setName(e.target.value)} />
      <//>
      <${Field} id="doctor-slot" label=${t("doctors.slot")} problem=${problem} field="slot_minutes"
        hint=${t("doctors.slot_hint")}>
        <input ...${fieldProps("doctor-slot", problem, "slot_minutes", true)} type="number"
          inputmode="numeric" min="5" max="480" step="5" required value=${slot}
          onInput=${(e) => setSlot(e.target.value)} />
      <//>
    </div>
    <div class="actions">
      <button type="submit" disabled=${busy || stale}>${t("doctors.save_details")}</button>
    </div>
    <${Notice} text=${notice} />
  </form>`;
}

function Editor({ app, id, canEditDetails, onDoctorSaved }) {
  const [generation, setGeneration] = useState(0); /* bumped by "load again" */
  const [doctor, setDoctor] = useState(null); /* { json, etag } */
  const [schedule, setSchedule] = useState(null); /* { json, etag }: as last read or saved */
  const [rows, setRows] = useState(null);
  const [loadProblem, setLoadProblem] = useState(null);
  const [notice, setNotice] = useState("");
  const [stale, setStale] = useState(false);
  const [errs, setErrs] = useState({});
  const [busy, problem, run, setProblem] = useAction();
  const title = useRef(null);
  const focusTitle = useRef(false); /* a doctor opened: the heading takes the focus once shown */
  const path = `/api/doctors/${encodeURIComponent(id)}`;

  useEffect(() => {
    let live = true;
    setLoadProblem(null);
    setStale(false);
    setErrs({});
    setNotice("");
    setProblem(null);
    Promise.all([api("GET", path), api("GET", path + "/schedule")]).then(([d, s]) => {
      if (!live) return;
      if (!d.ok || !s.ok) return setLoadProblem(d.ok ? s.problem : d.problem);
      setDoctor({ json: d.json, etag: d.etag });
      setSchedule({ json: s.json, etag: s.etag });
      setRows(toRows(s.json));
      if (generation === 0) focusTitle.current = true;
    }, () => live && setLoadProblem({ status: 0, detail: t("problem.unreachable") }));
    return () => {
      live = false;
    };
  }, [id, generation]);

  /* The heading exists only once the doctor is shown: focus it then. */
  useEffect(() => {
    if (focusTitle.current && title.current) {
      focusTitle.current = false;
      title.current.focus();
    }
  }, [doctor, rows]);

  if (loadProblem) return html`<${ProblemBox} problem=${loadProblem} />`;
  if (!doctor || !rows) return html`<p class="loading">${t("app.loading")}</p>`;

  const reload = () => setGeneration((g) => g + 1);
  const step = String(doctor.json.slot_minutes * 60);

  /* The name or slot length was saved: the schedule's ETag moved with it. */
  const doctorSaved = async (json, etag) => {
    setDoctor({ json, etag });
    onDoctorSaved();
    const s = await api("GET", path + "/schedule").catch(() => null);
    if (s && s.ok && sameHours(s.json, schedule.json)) setSchedule({ json: s.json, etag: s.etag });
  };

  const save = async (ev) => {
    ev.preventDefault();
    setNotice("");
    setErrs({});
    const { body, keys } = toBody(rows);
    const r = await run(() => api("PUT", path + "/schedule", { body, ifMatch: schedule.etag }));
    if (!r) return;
    if (r.ok) {
      setSchedule({ json: r.json, etag: r.etag });
      setRows(toRows(r.json));
      setNotice(t("doctors.hours_saved"));
      return;
    }
    if (r.status === 412) {
      setProblem(null);
      setStale(true);
      return;
    }
    const { byRow, all } = errorsByRow(r.problem, keys);
    setErrs(byRow);
    if (all) setProblem({ ...r.problem, detail: t("doctors.fix_rows") });
  };

  const zone = app.clinic.timezone;
  return html`<section class="doctors-editor" aria-labelledby="doctor-title">
    <h2 id="doctor-title" tabindex="-1" ref=${title}>${doctor.json.name}</h2>
    <${Details} key=${generation} doctor=${doctor.json} etag=${doctor.etag} canEdit=${canEditDetails}
      onSaved=${doctorSaved} onReload=${reload} />
    <form class="doctors-hours" onSubmit=${save} noValidate aria-labelledby="doctors-hours-title">
      <h3 id="doctors-hours-title">${t("doctors.working_hours")}</h3>
      <p class="hint">${t("doctors.hours_help", { zone })}</p>
      <${WeekGrid} rows=${rows} setRows=${setRows} errs=${errs} step=${step} />
      <${Exceptions} rows=${rows} setRows=${setRows} errs=${errs} step=${step} zone=${zone}
        />
      ${stale && html`<${Stale} text=${t("doctors.stale_hours")} onReload=${reload} />`}
      <${ProblemBox} problem=${problem} />
      <div class="actions">
        <button type="submit" disabled=${busy || stale}>${t("doctors.save_hours")}</button>
      </div>
      <${Notice} text=${notice} />
    </form>
  </section>`;
}

/* --- the list and a new doctor (admin) -------------------------------------- */

function AddDoctor({ onAdded }) {
  const [name, setName] = useState("");
  const [slot, setSlot] = useState("15");
  const [busy, problem, run] = useAction();

  const submit = async (ev) => {
    ev.preventDefault();
    const body = { name: name.trim(), slot_minutes: slotValue(slot) };
    const r = await run(() => api("POST", "/api/doctors", { body }));
    if (r && r.ok) {
      setName("");
      setSlot("15");
      onAdded(r.json);
    }
  };

  return html`<form class="doctors-add-form" onSubmit=${submit} noValidate
    aria-labelledby="doctors-add-title">
    <h2 id="doctors-add-title">${t("doctors.add")}</h2>
    <${ProblemBox} problem=${problem} />
    <${Field} id="new-doctor-name" label=${t("doctors.name")} problem=${problem} field="name">
      <input ...${fieldProps("new-doctor-name", problem, "name")} autocomplete="off" required
        maxlength="200" value=${name} onInput=${(e) => setName(e.target.value)} />
    <//>
    <${Field} id="new-doctor-slot" label=${t("doctors.slot")} problem=${problem} field="slot_minutes"
      hint=${t("doctors.slot_hint")}>
      <input ...${fieldProps("new-doctor-slot", problem, "slot_minutes", true)} type="number"
        inputmode="numeric" min="5" max="480" step="5" required value=${slot}
        onInput=${(e) => setSlot(e.target.value)} />
    <//>
    <button type="submit" disabled=${busy}>${t("doctors.add_submit")}</button>
  </form>`;
}

function DoctorList({ doctors, selected }) {
  if (doctors.length === 0) return html`<p class="muted">${t("doctors.none")}</p>`;
  return html`<div class="table-wrap"><table class="doctors-list">
    <caption class="visually-hidden">${t("doctors.list_caption")}</caption>
    <thead><tr>
      <th scope="col">${t("doctors.name")}</th>
      <th scope="col">${t("doctors.slot_short")}</th>
    </tr></thead>
    <tbody>${doctors.map((d) => html`<tr key=${d.id} class=${d.id === selected ? "selected" : ""}>
      <th scope="row"><a href=${"#/doctors" + query({ id: d.id })}
        aria-current=${d.id === selected ? "true" : undefined}>${d.name}</a></th>
      <td>${t("doctors.minutes", { n: d.slot_minutes })}</td>
    </tr>`)}</tbody>
  </table></div>`;
}

export default function Doctors({ app }) {
  const isAdmin = app.session.role === "admin";
  const [doctors, setDoctors] = useState(null);
  const [problem, setProblem] = useState(null);
  const [notice, setNotice] = useState("");
  const own = app.session.doctor_id || "";
  const selected = isAdmin ? app.params.id || "" : own;

  const loadList = async () => {
    try {
      const r = await api("GET", "/api/doctors");
      if (r.ok) setDoctors(r.json.doctors);
      else setProblem(r.problem);
    } catch (e) {
      setProblem({ status: 0, detail: t("problem.unreachable") });
    }
  };

  useEffect(() => {
    if (isAdmin) loadList();
  }, []);

  const added = (d) => {
    setNotice(t("doctors.added", { name: d.name }));
    loadList();
    app.navigate("doctors", { id: d.id });
  };

  if (!isAdmin)
    return html`<div class="doctors">
      <${ScreenTitle} text=${t("doctors.own_title")} />
      ${own
        ? html`<${Editor} key=${own} app=${app} id=${own} canEditDetails=${false}
            onDoctorSaved=${() => null} />`
        : html`<p class="problem" role="alert">${t("doctors.no_own")}</p>`}
    </div>`;

  return html`<div class="doctors">
    <${ScreenTitle} text=${t("doctors.title")} />
    ${problem && html`<p class="problem" role="alert">${problemText(problem)}</p>`}
    <${Notice} text=${notice} />
    <div class="doctors-top">
      <section aria-labelledby="doctors-list-title">
        <h2 id="doctors-list-title">${t("doctors.list")}</h2>
        ${doctors === null && !problem ? html`<p class="loading">${t("app.loading")}</p>` : null}
        ${doctors && html`<${DoctorList} doctors=${doctors} selected=${selected} />`}
      </section>
      <${AddDoctor} onAdded=${added} />
    </div>
    <div class="doctors-main">
      ${selected
        ? html`<${Editor} key=${selected} app=${app} id=${selected} canEditDetails=${true}
            onDoctorSaved=${loadList} />`
        : html`<p class="muted">${t("doctors.pick")}</p>`}
    </div>
  </div>`;
}
