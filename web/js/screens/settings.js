/*
 * settings.js — the admin's settings, one page in sections, each with its
 * h2 and reached from a small menu at the top (#/settings?section=users):
 *
 *   clinic    GET/PUT /api/clinic: name, time zone, language, grace
 *             minutes, offers, reminders, confirmations. Only the fields
 *             the admin changed are sent (the box merges them into the
 *             stored settings), `language` only when the box's answer has
 *             it. After a save the shell reloads the clinic, so a new
 *             language or zone shows at once.
 *   users     GET/POST /api/users, PATCH /api/users/{name} (role, doctor,
 *             password, disabled); the last admin's 409 shows at its row.
 *   sessions  GET /api/sessions, DELETE /api/sessions/{id}.
 *   tokens    GET/POST /api/tokens, DELETE /api/tokens/{name}; a new
 *             token's secret is shown once, read-only, to copy.
 *   tls       GET /api/tls: the certificate's fingerprint, or "TLS off".
 *   audit     GET /api/audit pages of 50, newest page first; `seq` has no
 *             gaps, so the previous page starts 50 lower. The newest
 *             entry's seq and hash are shown for noting elsewhere
 *             (docs/security.md, "Audit trail").
 *
 * No browser dialogs: what cannot be undone (revoking a token) asks again
 * inline.
 */
import { html, useEffect, useRef, useState } from "../../vendor/htm-preact-standalone.js";
import { api, query } from "../api.js";
import { locale, t } from "../i18n.js";
import { formatTime } from "../time.js";
import {
  Field, Notice, ProblemBox, ScreenTitle, boxWordsLang, fieldProps, problemText, useAction, useResource,
} from "../ui.js";

const SECTIONS = ["clinic", "users", "sessions", "tokens", "tls", "audit"];
const ROLES = ["admin", "front_desk", "doctor"];
const LANGUAGES = ["auto", "en", "de"];
const AUDIT_PAGE = 50;

/* A whole number typed into a field, or what was typed (the box then
 * answers "must be a whole number" for that field). */
function wholeNumber(s) {
  const v = String(s).trim();
  return /^-?\d+$/.test(v) ? Number(v) : v;
}

/* "24, 2" -> [24, 2]; "" -> [] (no reminders). */
function hoursList(s) {
  return String(s).split(/[\s,;]+/).filter(Boolean).map(wholeNumber);
}

function zones(current) {
  let all = [];
  try {
    all = Intl.supportedValuesOf("timeZone");
  } catch (e) {
    all = [];
  }
  if (!all.includes("UTC")) all = ["UTC", ...all];
  if (current && !all.includes(current)) all = [current, ...all];
  return all;
}

function doctorName(doctors, id) {
  const d = (doctors || []).find((x) => x.id === id);
  return d ? d.name : id || "";
}

function focusSection(id) {
  const el = document.getElementById("settings-" + id);
  if (el) {
    el.scrollIntoView({ block: "start" });
    el.focus();
  }
}

function SectionTitle({ id }) {
  return html`<h2 id=${"settings-" + id} tabindex="-1">${t("settings.section." + id)}</h2>`;
}

/* A role and, for a doctor, which doctor: the pair every account form has. */
function RoleFields({ idp, role, doctorId, doctors, problem, onRole, onDoctor }) {
  return html`
    <${Field} id=${idp + "-role"} label=${t("settings.role")} problem=${problem} field="role">
      <select ...${fieldProps(idp + "-role", problem, "role")} value=${role}
        onChange=${(e) => onRole(e.target.value)}>
        ${ROLES.map((r) => html`<option value=${r}>${t("role." + r)}</option>`)}
      </select>
    <//>
    ${role === "doctor" && html`<${Field} id=${idp + "-doctor"} label=${t("settings.doctor")}
        problem=${problem} field="doctor_id"
        hint=${doctors && doctors.length ? "" : t("settings.no_doctors")}>
      <select ...${fieldProps(idp + "-doctor", problem, "doctor_id", !(doctors && doctors.length))}
        value=${doctorId} onChange=${(e) => onDoctor(e.target.value)}>
        <option value="">${t("settings.choose_doctor")}</option>
        ${(doctors || []).map((d) => html`<option value=${d.id}>${d.name}</option>`)}
      </select>
    <//>`}`;
}

/* --- clinic -------------------------------------------------------------- */

function toForm(c) {
  return {
    name: c.name,
    timezone: c.timezone,
    language: c.language,
    grace_minutes: String(c.grace_minutes),
    reschedule_options: String(c.reschedule_options),
    offer_hours: String(c.offer_hours),
    reminder_hours: (c.reminder_hours || []).join(", "),
    confirmations: !!c.confirmations,
  };
}

/* The fields that differ from what the box has, as the API wants them. */
function changes(form, clinic) {
  const out = {};
  if (form.name !== clinic.name) out.name = form.name;
  if (form.timezone !== clinic.timezone) out.timezone = form.timezone;
  if ("language" in clinic && form.language !== clinic.language) out.language = form.language;
  for (const k of ["grace_minutes", "reschedule_options", "offer_hours"]) {
    const v = wholeNumber(form[k]);
    if (v !== clinic[k]) out[k] = v;
  }
  const hours = hoursList(form.reminder_hours);
  if (JSON.stringify(hours) !== JSON.stringify(clinic.reminder_hours || [])) out.reminder_hours = hours;
  if (form.confirmations !== !!clinic.confirmations) out.confirmations = form.confirmations;
  return out;
}

function NumberField({ id, field, form, set, problem, hint }) {
  return html`<${Field} id=${id} label=${t("settings.clinic." + field)} problem=${problem}
      field=${field} hint=${hint}>
    <input ...${fieldProps(id, problem, field, !!hint)} inputmode="numeric" value=${form[field]}
      onInput=${(e) => set(field, e.target.value)} />
  <//>`;
}

function ClinicSection({ app }) {
  const [form, setForm] = useState(null);
  /* etag: as last read or saved, the PUT's If-Match */
  const { data: clinic, etag, problem: loadProblem, reload, set: keep } =
    useResource("/api/clinic", (c) => setForm(toForm(c)));
  const [notice, setNotice] = useState("");
  const [busy, problem, run] = useAction();

  const set = (k, v) => setForm((f) => ({ ...f, [k]: v }));

  const submit = async (ev) => {
    ev.preventDefault();
    setNotice("");
    const body = changes(form, clinic);
    if (!Object.keys(body).length) {
      setNotice(t("settings.clinic.unchanged"));
      return;
    }
    /* If-Match: a change another admin saved since this form was read is
     * not overwritten; the 412's detail says so and "Reload" shows it. */
    const r = await run(() => api("PUT", "/api/clinic", { body, ifMatch: etag || undefined }));
    if (r && r.ok) {
      keep(r.json, r.etag);
      setForm(toForm(r.json));
      await app.reloadClinic();
      setNotice(t("common.saved"));
    }
  };

  if (loadProblem) return html`<${ProblemBox} problem=${loadProblem} />`;
  if (!form) return html`<p class="loading">${t("app.loading")}</p>`;
  return html`<form class="settings-form" onSubmit=${submit} novalidate
      aria-labelledby="settings-clinic">
    <${ProblemBox} problem=${problem} />
    <${Field} id="clinic-name" label=${t("settings.clinic.name")} problem=${problem} field="name">
      <input ...${fieldProps("clinic-name", problem, "name")} value=${form.name} autocomplete="organization"
        onInput=${(e) => set("name", e.target.value)} />
    <//>
    <${Field} id="clinic-timezone" label=${t("settings.clinic.timezone")} problem=${problem}
        field="timezone" hint=${t("settings.clinic.timezone_hint")}>
      <select ...${fieldProps("clinic-timezone", problem, "timezone", true)} value=${form.timezone}
        onChange=${(e) => set("timezone", e.target.value)}>
        ${zones(clinic.timezone).map((z) => html`<option value=${z}>${z}</option>`)}
      </select>
    <//>
    ${"language" in clinic && html`<${Field} id="clinic-language" label=${t("settings.clinic.language")}
        problem=${problem} field="language" hint=${t("settings.clinic.language_hint")}>
      <select ...${fieldProps("clinic-language", problem, "language", true)} value=${form.language}
        onChange=${(e) => set("language", e.target.value)}>
        ${LANGUAGES.map((l) => html`<option value=${l}>${t("settings.language." + l)}</option>`)}
      </select>
    <//>`}
    <${NumberField} id="clinic-grace" field="grace_minutes" form=${form} set=${set} problem=${problem}
      hint=${t("settings.clinic.grace_minutes_hint")} />
    <${NumberField} id="clinic-options" field="reschedule_options" form=${form} set=${set}
      problem=${problem} hint=${t("settings.clinic.reschedule_options_hint")} />
    <${NumberField} id="clinic-offer-hours" field="offer_hours" form=${form} set=${set}
      problem=${problem} hint=${t("settings.clinic.offer_hours_hint")} />
    <${Field} id="clinic-reminders" label=${t("settings.clinic.reminder_hours")} problem=${problem}
        field="reminder_hours" hint=${t("settings.clinic.reminder_hours_hint")}>
      <input ...${fieldProps("clinic-reminders", problem, "reminder_hours", true)}
        value=${form.reminder_hours} onInput=${(e) => set("reminder_hours", e.target.value)} />
    <//>
    <div class="field check">
      <input type="checkbox" id="clinic-confirmations" checked=${form.confirmations}
        aria-describedby="clinic-confirmations-hint"
        onChange=${(e) => set("confirmations", e.target.checked)} />
      <label for="clinic-confirmations">${t("settings.clinic.confirmations")}</label>
      <p class="hint" id="clinic-confirmations-hint">${t("settings.clinic.confirmations_hint")}</p>
    </div>
    <div class="actions">
      <button type="submit" disabled=${busy}>${t("common.save")}</button>
      <button type="button" class="secondary" onClick=${() => { setNotice(""); reload(); }}>
        ${t("settings.reload")}</button>
    </div>
    <${Notice} text=${notice} />
  </form>`;
}

/* --- users ----------------------------------------------------------------- */

function UserEdit({ user, doctors, onDone, onCancel }) {
  const [role, setRole] = useState(user.role);
  const [doctorId, setDoctorId] = useState(user.doctor_id || "");
  const [password, setPassword] = useState("");
  const [busy, problem, run, setProblem] = useAction();
  const idp = "user-edit-" + user.username;

  const submit = async (ev) => {
    ev.preventDefault();
    const body = {};
    if (role !== user.role || (role === "doctor" && doctorId !== (user.doctor_id || ""))) {
      body.role = role;
      if (role === "doctor" && doctorId) body.doctor_id = doctorId;
    }
    if (password) body.password = password;
    if (!Object.keys(body).length) {
      setProblem({ status: 0, detail: t("settings.users.unchanged") });
      return;
    }
    const r = await run(() => api("PATCH", `/api/users/${encodeURIComponent(user.username)}`, { body }));
    if (r && r.ok) onDone(t("settings.users.changed", { name: user.username }));
  };

  return html`<form class="settings-form inline-edit" onSubmit=${submit} novalidate
      aria-label=${t("settings.users.edit_label", { name: user.username })}>
    <${ProblemBox} problem=${problem} />
    <${RoleFields} idp=${idp} role=${role} doctorId=${doctorId} doctors=${doctors} problem=${problem}
      onRole=${setRole} onDoctor=${setDoctorId} />
    <${Field} id=${idp + "-password"} label=${t("settings.users.new_password")} problem=${problem}
        field="password" hint=${t("settings.users.new_password_hint")}>
      <input ...${fieldProps(idp + "-password", problem, "password", true)} type="password"
        autocomplete="new-password" value=${password} onInput=${(e) => setPassword(e.target.value)} />
    <//>
    <div class="actions">
      <button type="submit" disabled=${busy}>${t("common.save")}</button>
      <button type="button" class="secondary" onClick=${onCancel}>${t("common.cancel")}</button>
    </div>
  </form>`;
}

function UserAdd({ doctors, onDone }) {
  const blank = { username: "", role: "front_desk", doctor_id: "", password: "" };
  const [f, setF] = useState(blank);
  const [busy, problem, run] = useAction();
  const set = (k, v) => setF((x) => ({ ...x, [k]: v }));

  const submit = async (ev) => {
    ev.preventDefault();
    const body = { username: f.username, role: f.role, password: f.password };
    if (f.role === "doctor" && f.doctor_id) body.doctor_id = f.doctor_id;
    const r = await run(() => api("POST", "/api/users", { body }));
    if (r && r.ok) {
      setF(blank);
      onDone(t("settings.users.added", { name: r.json.username }));
    }
  };

  return html`<form class="settings-form" onSubmit=${submit} novalidate aria-labelledby="user-add-title">
    <h3 id="user-add-title">${t("settings.users.add")}</h3>
    <${ProblemBox} problem=${problem} />
    <${Field} id="user-add-username" label=${t("settings.users.username")} problem=${problem}
        field="username" hint=${t("setup.username_hint")}>
      <input ...${fieldProps("user-add-username", problem, "username", true)} autocomplete="off"
        autocapitalize="none" spellcheck="false" value=${f.username}
        onInput=${(e) => set("username", e.target.value)} />
    <//>
    <${RoleFields} idp="user-add" role=${f.role} doctorId=${f.doctor_id} doctors=${doctors}
      problem=${problem} onRole=${(v) => set("role", v)} onDoctor=${(v) => set("doctor_id", v)} />
    <${Field} id="user-add-password" label=${t("settings.users.password")} problem=${problem}
        field="password" hint=${t("setup.password_hint")}>
      <input ...${fieldProps("user-add-password", problem, "password", true)} type="password"
        autocomplete="new-password" value=${f.password}
        onInput=${(e) => set("password", e.target.value)} />
    <//>
    <div class="actions"><button type="submit" disabled=${busy}>${t("settings.users.add_submit")}</button></div>
  </form>`;
}

function UsersSection({ app, doctors }) {
  const zone = app.clinic.timezone;
  const { data: users, problem: loadProblem, reload } = useResource("/api/users");
  const [rowProblem, setRowProblem] = useState({});
  const [editing, setEditing] = useState("");
  const [notice, setNotice] = useState("");
  const [busy, , run] = useAction();

  const done = (text) => {
    setEditing("");
    setRowProblem({});
    setNotice(text);
    reload();
  };

  const toggle = async (u) => {
    setNotice("");
    const r = await run(() => api("PATCH", `/api/users/${encodeURIComponent(u.username)}`,
      { body: { disabled: !u.disabled } }));
    if (r && r.ok) done(t(r.json.disabled ? "settings.users.disabled_done" : "settings.users.enabled_done",
      { name: u.username }));
    else setRowProblem({ [u.username]: r ? r.problem : { status: 0, detail: t("problem.unreachable") } });
  };

  return html`
    <${ProblemBox} problem=${loadProblem} />
    <${Notice} text=${notice} />
    ${users && html`<div class="table-wrap" tabindex="0" role="region" aria-label=${t("settings.users.caption")}><table class="settings-users">
      <caption class="visually-hidden">${t("settings.users.caption")}</caption>
      <thead><tr>
        <th scope="col">${t("settings.users.username")}</th>
        <th scope="col">${t("settings.role")}</th>
        <th scope="col">${t("settings.users.state")}</th>
        <th scope="col">${t("settings.users.created")}</th>
        <th scope="col"><span class="visually-hidden">${t("settings.actions")}</span></th>
      </tr></thead>
      <tbody>${users.map((u) => html`<tr key=${u.username} data-user=${u.username}>
        <th scope="row">${u.username}${u.username === app.session.username
          ? html` <span class="muted">${t("settings.users.you")}</span>` : null}</th>
        <td>${t("role." + u.role)}${u.role === "doctor" && u.doctor_id
          ? html`: ${doctorName(doctors, u.doctor_id)}` : null}</td>
        <td><span class=${"badge " + (u.disabled ? "disabled" : "enabled")}>
          ${t(u.disabled ? "settings.users.is_disabled" : "settings.users.is_enabled")}</span></td>
        <td>${formatTime(u.created_at, zone, "date")}</td>
        <td>
          <div class="actions">
            <button type="button" class="secondary" aria-expanded=${editing === u.username ? "true" : "false"}
              aria-label=${t("settings.users.edit_label", { name: u.username })}
              onClick=${() => setEditing(editing === u.username ? "" : u.username)}>
              ${t("settings.users.edit")}</button>
            <button type="button" class="secondary" disabled=${busy}
              aria-label=${t(u.disabled ? "settings.users.enable_label" : "settings.users.disable_label",
                { name: u.username })}
              onClick=${() => toggle(u)}>
              ${t(u.disabled ? "settings.users.enable" : "settings.users.disable")}</button>
          </div>
          ${rowProblem[u.username] && html`<p class="field-error" role="alert">
            ${problemText(rowProblem[u.username])}</p>`}
          ${editing === u.username && html`<${UserEdit} user=${u} doctors=${doctors} onDone=${done}
            onCancel=${() => setEditing("")} />`}
        </td>
      </tr>`)}</tbody>
    </table></div>`}
    <${UserAdd} doctors=${doctors} onDone=${done} />`;
}

/* --- sessions -------------------------------------------------------------- */

function SessionsSection({ app }) {
  const zone = app.clinic.timezone;
  /* a session that could not be ended shows in the list's problem box */
  const { data: list, problem, reload, setProblem } = useResource("/api/sessions");
  const [notice, setNotice] = useState("");
  const [busy, , run] = useAction();

  const end = async (s) => {
    setNotice("");
    const r = await run(() => api("DELETE", `/api/sessions/${encodeURIComponent(s.id)}`));
    if (r && r.ok) {
      setNotice(t("settings.sessions.ended", { name: s.username }));
      reload();
    } else setProblem(r ? r.problem : { status: 0, detail: t("problem.unreachable") });
  };

  return html`
    <${ProblemBox} problem=${problem} />
    <${Notice} text=${notice} />
    ${list && html`<div class="table-wrap" tabindex="0" role="region" aria-label=${t("settings.sessions.caption")}><table class="settings-sessions">
      <caption class="visually-hidden">${t("settings.sessions.caption")}</caption>
      <thead><tr>
        <th scope="col">${t("settings.users.username")}</th>
        <th scope="col">${t("settings.sessions.from")}</th>
        <th scope="col">${t("settings.sessions.since")}</th>
        <th scope="col">${t("settings.sessions.last_seen")}</th>
        <th scope="col"><span class="visually-hidden">${t("settings.actions")}</span></th>
      </tr></thead>
      <tbody>${list.map((s) => html`<tr key=${s.id}>
        <th scope="row">${s.username} <span class="muted">(${t("role." + s.role)})</span>
          ${s.id === app.session.session_id
            ? html` <span class="muted">${t("settings.sessions.this")}</span>` : null}</th>
        <td>${s.address}<br /><span class="muted ua">${s.user_agent}</span></td>
        <td>${formatTime(s.created_at, zone)}</td>
        <td>${formatTime(s.last_seen, zone)}</td>
        <td><button type="button" class="secondary" disabled=${busy}
          aria-label=${t("settings.sessions.end_label", { name: s.username, when: formatTime(s.created_at, zone) })}
          onClick=${() => end(s)}>${t("settings.sessions.end")}</button></td>
      </tr>`)}</tbody>
    </table></div>`}
    <div class="actions">
      <button type="button" class="secondary" onClick=${() => { setNotice(""); reload(); }}>
        ${t("settings.reload")}</button>
    </div>`;
}

/* --- API tokens ------------------------------------------------------------ */

function Secret({ created, onHide }) {
  const ref = useRef(null);
  const [copied, setCopied] = useState("");
  useEffect(() => {
    if (ref.current) ref.current.focus();
  }, [created.name]);
  const copy = async () => {
    const el = ref.current;
    el.select();
    let ok = false;
    try {
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(created.token);
        ok = true;
      } else ok = document.execCommand("copy");
    } catch (e) {
      ok = false;
    }
    setCopied(ok ? t("settings.tokens.copied") : t("settings.tokens.copy_failed"));
  };
  return html`<div class="secret-box" role="region" aria-labelledby="token-secret-title">
    <h3 id="token-secret-title">${t("settings.tokens.secret_title", { name: created.name })}</h3>
    <p><strong>${t("settings.tokens.secret_once")}</strong></p>
    <div class="field">
      <label for="token-secret">${t("settings.tokens.secret")}</label>
      <input id="token-secret" ref=${ref} readonly value=${created.token} spellcheck="false"
        autocomplete="off" onFocus=${(e) => e.target.select()} />
    </div>
    <div class="actions">
      <button type="button" onClick=${copy}>${t("settings.tokens.copy")}</button>
      <button type="button" class="secondary" onClick=${onHide}>${t("settings.tokens.hide")}</button>
    </div>
    <${Notice} text=${copied} />
  </div>`;
}

function TokensSection({ app, doctors }) {
  const zone = app.clinic.timezone;
  const blank = { name: "", role: "front_desk", doctor_id: "" };
  const { data: list, problem: loadProblem, reload } = useResource("/api/tokens");
  const [f, setF] = useState(blank);
  const [created, setCreated] = useState(null);
  const [confirm, setConfirm] = useState("");
  const [rowProblem, setRowProblem] = useState({});
  const [notice, setNotice] = useState("");
  const [busy, problem, run] = useAction();
  const set = (k, v) => setF((x) => ({ ...x, [k]: v }));

  const submit = async (ev) => {
    ev.preventDefault();
    setNotice("");
    const body = { name: f.name, role: f.role };
    if (f.role === "doctor" && f.doctor_id) body.doctor_id = f.doctor_id;
    const r = await run(() => api("POST", "/api/tokens", { body }));
    if (r && r.ok) {
      setCreated({ name: r.json.name, token: r.json.token });
      setF(blank);
      reload();
    }
  };

  const revoke = async (tk) => {
    setConfirm("");
    setNotice("");
    let r = null;
    try {
      r = await api("DELETE", `/api/tokens/${encodeURIComponent(tk.name)}`);
    } catch (e) {
      r = null;
    }
    if (r && r.ok) {
      setRowProblem({});
      setNotice(t("settings.tokens.revoked_done", { name: tk.name }));
      reload();
    } else setRowProblem({ [tk.name]: r ? r.problem : { status: 0, detail: t("problem.unreachable") } });
  };

  return html`
    <${ProblemBox} problem=${loadProblem} />
    <${Notice} text=${notice} />
    ${created && html`<${Secret} created=${created} onHide=${() => setCreated(null)} />`}
    ${list && (list.length === 0
      ? html`<p>${t("settings.tokens.none")}</p>`
      : html`<div class="table-wrap" tabindex="0" role="region" aria-label=${t("settings.tokens.caption")}><table class="settings-tokens">
      <caption class="visually-hidden">${t("settings.tokens.caption")}</caption>
      <thead><tr>
        <th scope="col">${t("settings.tokens.name")}</th>
        <th scope="col">${t("settings.role")}</th>
        <th scope="col">${t("settings.tokens.created")}</th>
        <th scope="col">${t("settings.tokens.last_used")}</th>
        <th scope="col">${t("settings.tokens.state")}</th>
        <th scope="col"><span class="visually-hidden">${t("settings.actions")}</span></th>
      </tr></thead>
      <tbody>${list.map((tk) => html`<tr key=${tk.name} data-token=${tk.name}>
        <th scope="row">${tk.name}</th>
        <td>${t("role." + tk.role)}${tk.role === "doctor" && tk.doctor_id
          ? html`: ${doctorName(doctors, tk.doctor_id)}` : null}</td>
        <td>${formatTime(tk.created_at, zone, "date")}</td>
        <td>${tk.last_used ? formatTime(tk.last_used, zone) : t("settings.tokens.never")}</td>
        <td>${tk.revoked_at
          ? html`<span class="badge revoked">${t("settings.tokens.revoked_at",
            { when: formatTime(tk.revoked_at, zone) })}</span>`
          : html`<span class="badge enabled">${t("settings.tokens.live")}</span>`}</td>
        <td>
          ${!tk.revoked_at && (confirm === tk.name
            ? html`<div class="actions">
                <button type="button" class="danger" onClick=${() => revoke(tk)}>
                  ${t("settings.tokens.revoke_really", { name: tk.name })}</button>
                <button type="button" class="secondary" onClick=${() => setConfirm("")}>
                  ${t("common.cancel")}</button></div>`
            : html`<button type="button" class="secondary"
                aria-label=${t("settings.tokens.revoke_label", { name: tk.name })}
                onClick=${() => setConfirm(tk.name)}>${t("settings.tokens.revoke")}</button>`)}
          ${rowProblem[tk.name] && html`<p class="field-error" role="alert">
            ${problemText(rowProblem[tk.name])}</p>`}
        </td>
      </tr>`)}</tbody>
    </table></div>`)}
    <form class="settings-form" onSubmit=${submit} novalidate aria-labelledby="token-add-title">
      <h3 id="token-add-title">${t("settings.tokens.add")}</h3>
      <${ProblemBox} problem=${problem} />
      <${Field} id="token-add-name" label=${t("settings.tokens.name")} problem=${problem}
          field="name" hint=${t("settings.tokens.name_hint")}>
        <input ...${fieldProps("token-add-name", problem, "name", true)} autocomplete="off"
          autocapitalize="none" spellcheck="false" value=${f.name}
          onInput=${(e) => set("name", e.target.value)} />
      <//>
      <${RoleFields} idp="token-add" role=${f.role} doctorId=${f.doctor_id} doctors=${doctors}
        problem=${problem} onRole=${(v) => set("role", v)} onDoctor=${(v) => set("doctor_id", v)} />
      <div class="actions"><button type="submit" disabled=${busy}>${t("settings.tokens.add_submit")}</button></div>
    </form>`;
}

/* --- TLS ------------------------------------------------------------------- */

function TlsSection({ app }) {
  const zone = app.clinic.timezone;
  const { data: tls, problem } = useResource("/api/tls");
  if (problem) return html`<${ProblemBox} problem=${problem} />`;
  if (!tls) return html`<p class="loading">${t("app.loading")}</p>`;
  if (!tls.enabled) return html`<p class="tls-off">${t("settings.tls.off")}</p>`;
  return html`<dl class="settings-tls">
    <dt>${t("settings.tls.fingerprint")}</dt>
    <dd><code class="fingerprint">${tls.fingerprint_sha256}</code>
      <p class="hint">${t("settings.tls.fingerprint_hint")}</p></dd>
    <dt>${t("settings.tls.subject")}</dt><dd>${tls.subject}</dd>
    <dt>${t("settings.tls.issuer")}</dt><dd>${tls.issuer}</dd>
    <dt>${t("settings.tls.valid")}</dt>
    <dd>${t("settings.tls.valid_range", { from: formatTime(tls.not_before, zone, "date"),
      until: formatTime(tls.not_after, zone, "date") })}</dd>
    <dt>${t("settings.tls.self_signed")}</dt>
    <dd>${tls.self_signed ? t("settings.tls.self_signed_yes") : t("common.no")}</dd>
  </dl>`;
}

/* --- audit trail ----------------------------------------------------------- */

const auditFormats = new Map();
/* An audit time to the second, in the clinic's zone. */
function auditTime(iso, zone) {
  const key = locale() + "|" + zone;
  let f = auditFormats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale(), { timeZone: zone || "UTC", year: "numeric",
      month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" });
    auditFormats.set(key, f);
  }
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : f.format(d);
}

function AuditSection({ app }) {
  const zone = app.clinic.timezone;
  const [page, setPage] = useState(null); // { after, entries, next, latest }
  const [problem, setProblem] = useState(null);
  const [busy, setBusy] = useState(false);

  /* after: a seq, or null for the newest page. */
  const load = async (after) => {
    setBusy(true);
    try {
      let from = after === null ? 0 : after;
      let r = await api("GET", "/api/audit" + query({ after: from, limit: AUDIT_PAGE }));
      if (after === null && r.ok && r.json.latest && r.json.latest.seq > AUDIT_PAGE) {
        from = r.json.latest.seq - AUDIT_PAGE;
        r = await api("GET", "/api/audit" + query({ after: from, limit: AUDIT_PAGE }));
      }
      if (r.ok) {
        setPage({ after: from, ...r.json });
        setProblem(null);
      } else setProblem(r.problem);
    } catch (e) {
      setProblem({ status: 0, detail: t("problem.unreachable") });
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    load(null);
  }, []);

  const entries = page ? page.entries : [];
  const first = entries.length ? entries[0].seq : 0;
  const last = entries.length ? entries[entries.length - 1].seq : 0;
  return html`
    <p class="muted">${t("settings.audit.intro")}</p>
    <${ProblemBox} problem=${problem} />
    ${page && page.latest && html`<p class="audit-head">
      ${t("settings.audit.head", { seq: page.latest.seq })}
      <code class="hash">${page.latest.hash}</code><br />
      <span class="hint">${t("settings.audit.head_hint")}</span>
      <code>clinicbox audit verify --expect ${page.latest.seq}:${page.latest.hash}</code></p>`}
    <nav class="actions" aria-label=${t("settings.audit.pages")}>
      <button type="button" class="secondary" disabled=${busy || !page || page.after === 0}
        onClick=${() => load(0)}>${t("settings.audit.oldest")}</button>
      <button type="button" class="secondary" disabled=${busy || !page || page.after === 0}
        onClick=${() => load(Math.max(0, page.after - AUDIT_PAGE))}>${t("settings.audit.previous")}</button>
      <button type="button" class="secondary" disabled=${busy || !page || page.next === null}
        onClick=${() => load(page.next)}>${t("settings.audit.next")}</button>
      <button type="button" class="secondary" disabled=${busy}
        onClick=${() => load(null)}>${t("settings.audit.newest")}</button>
    </nav>
    <p role="status" class="muted">${page && (entries.length
      ? t("settings.audit.range", { first, last, total: page.latest ? page.latest.seq : last })
      : t("settings.audit.empty"))}</p>
    ${entries.length > 0 && html`<div class="table-wrap" tabindex="0" role="region" aria-label=${t("settings.audit.caption")}><table class="settings-audit">
      <caption class="visually-hidden">${t("settings.audit.caption")}</caption>
      <thead><tr>
        <th scope="col">${t("settings.audit.seq")}</th>
        <th scope="col">${t("settings.audit.time")}</th>
        <th scope="col">${t("settings.audit.actor")}</th>
        <th scope="col">${t("settings.audit.action")}</th>
        <th scope="col">${t("settings.audit.target")}</th>
        <th scope="col">${t("settings.audit.outcome")}</th>
        <th scope="col">${t("settings.audit.detail")}</th>
      </tr></thead>
      <tbody>${entries.map((e) => html`<tr key=${e.seq}>
        <td class="num">${e.seq}</td>
        <td>${auditTime(e.at, zone)}</td>
        <td>${e.actor}${e.address ? html`<br /><span class="muted">${e.address}</span>` : null}</td>
        <td class="code">${e.action}</td>
        <td class="code target">${e.target}</td>
        <td>${e.outcome}</td>
        <td lang=${boxWordsLang(e.detail)}>${e.detail}</td>
      </tr>`)}</tbody>
    </table></div>`}`;
}

/* --- the screen ------------------------------------------------------------ */

export default function Settings({ app }) {
  const { data: doctorList } = useResource("/api/doctors"); /* for names; a problem shows nowhere */
  const doctors = (doctorList && doctorList.doctors) || [];
  useEffect(() => {
    if (app.params.section) focusSection(app.params.section);
  }, [app.params.section]);

  const go = (ev, id) => {
    ev.preventDefault();
    app.navigate("settings", { section: id });
    focusSection(id);
  };

  const parts = {
    clinic: html`<${ClinicSection} app=${app} />`,
    users: html`<${UsersSection} app=${app} doctors=${doctors} />`,
    sessions: html`<${SessionsSection} app=${app} />`,
    tokens: html`<${TokensSection} app=${app} doctors=${doctors} />`,
    tls: html`<${TlsSection} app=${app} />`,
    audit: html`<${AuditSection} app=${app} />`,
  };
  return html`<div class="settings">
    <${ScreenTitle} text=${t("settings.title")} />
    <nav class="settings-menu" aria-label=${t("settings.menu")}>
      <ul>${SECTIONS.map((id) => html`<li key=${id}>
        <a href=${"#/settings?section=" + id} onClick=${(e) => go(e, id)}>
          ${t("settings.section." + id)}</a></li>`)}</ul>
    </nav>
    ${SECTIONS.map((id) => html`<section key=${id} class=${"settings-section settings-" + id}
        aria-labelledby=${"settings-" + id}>
      <${SectionTitle} id=${id} />
      ${parts[id]}
    </section>`)}
  </div>`;
}
