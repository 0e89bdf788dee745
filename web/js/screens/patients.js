/*
 * screens/patients.js — the Patients screen (admin, front desk): find a
 * patient (search as you type, GET /api/patients?q=), open one (the hash's
 * `id`, so a link or a reload opens the same patient), change their contact
 * details and notification preferences, see their appointment history and
 * book for them; an admin may delete a patient made by mistake.
 *
 * Concurrent edits: the form keeps the ETag of the patient it shows and
 * saves with If-Match. A 412 means someone changed the patient meanwhile
 * (another desk, or sync): the screen says so, reads the patient again and
 * shows both versions side by side; "use theirs" drops this form's changes,
 * "keep mine" saves them over the new version (with its ETag, so a third
 * change is caught again). Nothing is ever overwritten silently.
 *
 * Deleting asks in the page itself (not window.confirm, which a screen
 * reader and the tests handle badly); the API refuses (409) a patient who
 * has appointments or messages, and that answer is shown as it is.
 */
import { html, useEffect, useRef, useState } from "../../vendor/htm-preact-standalone.js";
import { api, query } from "../api.js";
import { t } from "../i18n.js";
import { formatTime } from "../time.js";
import { Field, Notice, ProblemBox, ScreenTitle, fieldProps, problemText, useAction, useResource } from "../ui.js";

const FIELDS = ["name", "phone", "email", "notify_email", "notify_sms"];
const SEARCH_DELAY_MS = 250;

/* The form's values from a patient as the API gives it. */
function toForm(p) {
  return { name: p.name || "", phone: p.phone || "", email: p.email || "",
    notify_email: !!p.notify_email, notify_sms: !!p.notify_sms };
}

/* The PUT body: every field, so that "keep mine" writes all of mine
 * ("" clears email and phone). */
function toBody(f) {
  return { name: f.name.trim(), phone: f.phone.trim(), email: f.email.trim(),
    notify_email: f.notify_email, notify_sms: f.notify_sms };
}

function shown(field, value) {
  if (typeof value === "boolean") return value ? t("common.yes") : t("common.no");
  return value === "" ? t("patients.empty") : value;
}

/* --- the search and the list ------------------------------------------------ */

function Search({ selected, refresh }) {
  const [q, setQ] = useState("");
  const [list, setList] = useState(null);
  const [problem, setProblem] = useState(null);
  const seq = useRef(0);

  useEffect(() => {
    const mine = ++seq.current;
    const timer = setTimeout(async () => {
      try {
        const r = await api("GET", "/api/patients" + query({ q: q.trim(), limit: 50 }));
        if (mine !== seq.current) return; /* a newer search is under way */
        setProblem(r.ok ? null : r.problem);
        if (r.ok) setList(r.json.patients);
      } catch (e) {
        if (mine === seq.current) setProblem({ status: 0, detail: t("problem.unreachable") });
      }
    }, q ? SEARCH_DELAY_MS : 0);
    return () => clearTimeout(timer);
  }, [q, refresh]);

  return html`<section class="patients-find" aria-labelledby="patients-find-title">
    <h2 id="patients-find-title">${t("patients.find")}</h2>
    <form role="search" onSubmit=${(e) => e.preventDefault()}>
      <${Field} id="patients-q" label=${t("patients.search")} hint=${t("patients.search_hint")}>
        <input ...${fieldProps("patients-q", null, "q", true)} type="search" autocomplete="off"
          value=${q} onInput=${(e) => setQ(e.target.value)} />
      <//>
    </form>
    <${ProblemBox} problem=${problem} />
    <p class="visually-hidden" role="status" aria-live="polite">
      ${list ? t("patients.found", { n: list.length }) : ""}</p>
    ${list === null && !problem ? html`<p class="loading">${t("app.loading")}</p>` : null}
    ${list && list.length === 0 ? html`<p class="muted">${t("patients.none_found")}</p>` : null}
    ${list && list.length > 0 && html`<div class="table-wrap"><table class="patients-list">
      <caption class="visually-hidden">${t("patients.list_caption")}</caption>
      <thead><tr>
        <th scope="col">${t("patients.name")}</th>
        <th scope="col">${t("patients.reach")}</th>
      </tr></thead>
      <tbody>${list.map((p) => html`<tr key=${p.id} class=${p.id === selected ? "selected" : ""}>
        <th scope="row"><a href=${"#/patients" + query({ id: p.id })}
          aria-current=${p.id === selected ? "true" : undefined}>${p.name}</a></th>
        <td class="patients-reach">${p.phone && html`<span>${p.phone}</span>`}
          ${p.email && html`<span>${p.email}</span>`}</td>
      </tr>`)}</tbody>
    </table></div>`}
  </section>`;
}

/* --- the two versions after a 412 ---------------------------------------- */

function Conflict({ mine, theirs, busy, onTheirs, onMine }) {
  return html`<div class="problem patients-conflict" role="alert"
    aria-labelledby="patients-conflict-title">
    <p id="patients-conflict-title"><strong>${t("patients.conflict")}</strong></p>
    <p>${t("patients.conflict_help")}</p>
    <div class="table-wrap"><table>
      <caption class="visually-hidden">${t("patients.conflict_caption")}</caption>
      <thead><tr>
        <th scope="col">${t("patients.field")}</th>
        <th scope="col">${t("patients.theirs")}</th>
        <th scope="col">${t("patients.mine")}</th>
      </tr></thead>
      <tbody>${FIELDS.map((f) => {
        const differs = theirs[f] !== mine[f];
        return html`<tr key=${f} class=${differs ? "differs" : ""}>
          <th scope="row">${t("patients." + f)}${differs
            ? html` <span class="badge">${t("patients.differs")}</span>` : null}</th>
          <td data-version="theirs" data-field=${f}>${shown(f, theirs[f])}</td>
          <td data-version="mine" data-field=${f}>${shown(f, mine[f])}</td>
        </tr>`;
      })}</tbody>
    </table></div>
    <div class="actions">
      <button type="button" class="secondary" disabled=${busy} onClick=${onTheirs}>
        ${t("patients.use_theirs")}</button>
      <button type="button" disabled=${busy} onClick=${onMine}>${t("patients.keep_mine")}</button>
    </div>
  </div>`;
}

/* --- the appointment history --------------------------------------------- */

function History({ app, patientId, doctors }) {
  const [list, setList] = useState(null);
  const [problem, setProblem] = useState(null);

  useEffect(() => {
    let live = true;
    setList(null);
    setProblem(null);
    api("GET", "/api/appointments" + query({ patient_id: patientId, limit: 5000 })).then(
      (r) => {
        if (!live) return;
        if (!r.ok) return setProblem(r.problem);
        const all = r.json.appointments.slice();
        all.sort((a, b) => Date.parse(b.start) - Date.parse(a.start)); /* newest first */
        setList(all);
      },
      () => live && setProblem({ status: 0, detail: t("problem.unreachable") }));
    return () => {
      live = false;
    };
  }, [patientId]);

  const zone = app.clinic.timezone;
  return html`<section aria-labelledby="patients-history-title">
    <div class="patients-history-head">
      <h3 id="patients-history-title">${t("patients.history")}</h3>
      <button type="button" onClick=${() => app.navigate("book", { patient: patientId })}>
        ${t("patients.book")}</button>
    </div>
    <${ProblemBox} problem=${problem} />
    ${list === null && !problem ? html`<p class="loading">${t("app.loading")}</p>` : null}
    ${list && list.length === 0 ? html`<p class="muted">${t("patients.no_history")}</p>` : null}
    ${list && list.length > 0 && html`<div class="table-wrap"><table class="patients-history">
      <caption class="visually-hidden">${t("patients.history_caption")}</caption>
      <thead><tr>
        <th scope="col">${t("patients.when")}</th>
        <th scope="col">${t("patients.doctor")}</th>
        <th scope="col">${t("patients.status")}</th>
        <th scope="col">${t("patients.reason")}</th>
      </tr></thead>
      <tbody>${list.map((a) => html`<tr key=${a.id}>
        <th scope="row">${formatTime(a.start, zone, "dateTime")}</th>
        <td>${doctors[a.doctor_id] || t("patients.unknown_doctor")}</td>
        <td><span class=${"badge " + a.status}>${t("patients.status." + a.status)}</span></td>
        <td class="patients-reason">${a.reason || ""}</td>
      </tr>`)}</tbody>
    </table></div>`}
  </section>`;
}

/* --- one patient ------------------------------------------------------------ */

function Editor({ app, id, doctors, onChanged, onDeleted }) {
  const [loaded, setLoaded] = useState(null); /* { patient, etag } */
  const [loadProblem, setLoadProblem] = useState(null);
  const [form, setForm] = useState(null);
  const [conflict, setConflict] = useState(null); /* { patient, etag } of theirs */
  const [notice, setNotice] = useState("");
  const [confirming, setConfirming] = useState(false);
  const [busy, problem, run, setProblem] = useAction();
  const [deleting, deleteProblem, runDelete, setDeleteProblem] = useAction();
  const title = useRef(null);
  const focusTitle = useRef(false); /* a patient opened: its heading takes the focus once shown */
  const confirmRef = useRef(null);
  const deleteRef = useRef(null);
  const wasConfirming = useRef(false);
  const isAdmin = app.session.role === "admin";

  useEffect(() => {
    let live = true;
    setLoaded(null);
    setLoadProblem(null);
    setForm(null);
    setConflict(null);
    setNotice("");
    setConfirming(false);
    setProblem(null);
    setDeleteProblem(null);
    api("GET", `/api/patients/${encodeURIComponent(id)}`).then(
      (r) => {
        if (!live) return;
        if (!r.ok) return setLoadProblem(r.problem);
        setLoaded({ patient: r.json, etag: r.etag });
        setForm(toForm(r.json));
        focusTitle.current = true;
      },
      () => live && setLoadProblem({ status: 0, detail: t("problem.unreachable") }));
    return () => {
      live = false;
    };
  }, [id]);

  /* The heading exists only once the patient is shown: focus it then. */
  useEffect(() => {
    if (focusTitle.current && title.current) {
      focusTitle.current = false;
      title.current.focus();
    }
  }, [loaded, form]);

  /* The focus follows the confirmation: onto "Yes, delete" when it opens,
   * back to "Delete this patient" when it closes. */
  useEffect(() => {
    if (confirming && confirmRef.current) confirmRef.current.focus();
    else if (!confirming && wasConfirming.current && deleteRef.current) deleteRef.current.focus();
    wasConfirming.current = confirming;
  }, [confirming]);

  if (loadProblem)
    return html`<section class="patients-detail"><${ProblemBox} problem=${loadProblem} /></section>`;
  if (!loaded || !form)
    return html`<section class="patients-detail"><p class="loading">${t("app.loading")}</p></section>`;

  const set = (field) => (e) => {
    const v = e.target.type === "checkbox" ? e.target.checked : e.target.value;
    setForm((f) => ({ ...f, [field]: v }));
    setNotice("");
  };

  /* PUT with the ETag given; a 412 reads their version for the comparison. */
  const save = async (etag) => {
    setNotice("");
    const r = await run(() => api("PUT", `/api/patients/${encodeURIComponent(id)}`,
      { body: toBody(form), ifMatch: etag }));
    if (!r) return;
    if (r.ok) {
      setLoaded({ patient: r.json, etag: r.etag });
      setForm(toForm(r.json));
      setConflict(null);
      setNotice(t("patients.saved"));
      onChanged();
      return;
    }
    if (r.status === 412) {
      setProblem(null); /* the comparison says it in plain words */
      const g = await run(() => api("GET", `/api/patients/${encodeURIComponent(id)}`));
      if (g && g.ok) setConflict({ patient: g.json, etag: g.etag });
    }
  };

  const submit = (ev) => {
    ev.preventDefault();
    save(conflict ? conflict.etag : loaded.etag);
  };

  const useTheirs = () => {
    setLoaded(conflict);
    setForm(toForm(conflict.patient));
    setConflict(null);
    setProblem(null);
    setNotice(t("patients.took_theirs"));
    onChanged();
  };

  const remove = async () => {
    setNotice("");
    const r = await runDelete(() => api("DELETE", `/api/patients/${encodeURIComponent(id)}`,
      { ifMatch: loaded.etag }));
    if (r && r.ok) onDeleted(loaded.patient.name);
    else setConfirming(false);
  };

  const p = loaded.patient;
  const fid = (f) => "patient-" + f.replace("_", "-");
  return html`<section class="patients-detail" aria-labelledby="patient-title">
    <h2 id="patient-title" tabindex="-1" ref=${title}>${p.name}</h2>
    <form onSubmit=${submit} noValidate aria-labelledby="patient-form-title">
      <h3 id="patient-form-title">${t("patients.contact")}</h3>
      ${conflict && html`<${Conflict} mine=${form} theirs=${toForm(conflict.patient)} busy=${busy}
        onTheirs=${useTheirs} onMine=${() => save(conflict.etag)} />`}
      <${ProblemBox} problem=${problem} />
      <${Field} id=${fid("name")} label=${t("patients.name")} problem=${problem} field="name">
        <input ...${fieldProps(fid("name"), problem, "name")} autocomplete="off" required
          maxlength="200" value=${form.name} onInput=${set("name")} />
      <//>
      <${Field} id=${fid("phone")} label=${t("patients.phone")} problem=${problem} field="phone"
        hint=${t("patients.phone_hint")}>
        <input ...${fieldProps(fid("phone"), problem, "phone", true)} type="tel" autocomplete="off"
          value=${form.phone} onInput=${set("phone")} />
      <//>
      <${Field} id=${fid("email")} label=${t("patients.email")} problem=${problem} field="email">
        <input ...${fieldProps(fid("email"), problem, "email")} type="email" autocomplete="off"
          value=${form.email} onInput=${set("email")} />
      <//>
      <fieldset>
        <legend>${t("patients.notify")}</legend>
        <div class="patients-check">
          <input type="checkbox" id=${fid("notify_email")} checked=${form.notify_email}
            onChange=${set("notify_email")} />
          <label for=${fid("notify_email")}>${t("patients.notify_email_label")}</label>
        </div>
        <div class="patients-check">
          <input type="checkbox" id=${fid("notify_sms")} checked=${form.notify_sms}
            onChange=${set("notify_sms")} />
          <label for=${fid("notify_sms")}>${t("patients.notify_sms_label")}</label>
        </div>
      </fieldset>
      <div class="actions">
        <button type="submit" disabled=${busy || !!conflict}>${t("common.save")}</button>
      </div>
      <${Notice} text=${notice} />
    </form>

    <${History} app=${app} patientId=${id} doctors=${doctors} />

    ${isAdmin && html`<section class="patients-delete" aria-labelledby="patients-delete-title">
      <h3 id="patients-delete-title">${t("patients.delete_title")}</h3>
      <${ProblemBox} problem=${deleteProblem} />
      ${confirming
        ? html`<div class="patients-confirm" role="group" aria-labelledby="patients-confirm-text">
            <p id="patients-confirm-text">${t("patients.delete_confirm", { name: p.name })}</p>
            <div class="actions">
              <button type="button" class="danger" ref=${confirmRef} disabled=${deleting}
                onClick=${remove}>${t("patients.delete_yes")}</button>
              <button type="button" class="secondary" onClick=${() => setConfirming(false)}>
                ${t("patients.delete_no")}</button>
            </div>
          </div>`
        : html`<p class="muted">${t("patients.delete_help")}</p>
          <button type="button" class="secondary" ref=${deleteRef} onClick=${() => {
            setDeleteProblem(null);
            setConfirming(true);
          }}>
            ${t("patients.delete")}</button>`}
    </section>`}
  </section>`;
}

export default function Patients({ app }) {
  const [doctors, setDoctors] = useState({});
  const [refresh, setRefresh] = useState(0);
  const [notice, setNotice] = useState("");
  const { problem } = useResource("/api/doctors",
    (body) => setDoctors(Object.fromEntries(body.doctors.map((d) => [d.id, d.name]))));
  const id = app.params.id || "";

  useEffect(() => {
    if (id) setNotice("");
  }, [id]);

  const deleted = (name) => {
    setNotice(t("patients.deleted", { name }));
    setRefresh((n) => n + 1);
    app.navigate("patients");
  };

  return html`<div class="patients">
    <${ScreenTitle} text=${t("patients.title")} />
    ${problem && html`<p class="problem" role="alert">${problemText(problem)}</p>`}
    <${Notice} text=${notice} />
    <div class="patients-layout">
      <${Search} selected=${id} refresh=${refresh} />
      ${id
        ? html`<${Editor} key=${id} app=${app} id=${id} doctors=${doctors}
            onChanged=${() => setRefresh((n) => n + 1)} onDeleted=${deleted} />`
        : html`<section class="patients-detail"><p class="muted">${t("patients.pick")}</p></section>`}
    </div>
  </div>`;
}
