/*
 * messages.js — the outbox (admin, front desk): every message the box sends
 * or tried to send (GET /api/notifications, newest first), with its state,
 * attempts and last error, and "Send again" for a dead or failed one
 * (POST /api/notifications/{id}/retry). A refused retry (409: the message
 * is no longer dead, or an offer's link is no longer stored) shows its
 * detail next to that message.
 *
 * The list polls every 10 s as a background request with the last ETag, so
 * an open screen neither keeps an idle session alive nor re-reads an
 * unchanged list. A message names no patient, only an appointment: the
 * patient's name comes from GET /api/appointments/{id} and
 * GET /api/patients/{id}, each read once and cached for the page's life
 * (a few per poll, so that a long list does not burst the box); until then,
 * or when the record is gone, the row shows only the address it went to.
 */
import { html, useRef, useState } from "../../vendor/htm-preact-standalone.js";
import { api, query } from "../api.js";
import { t } from "../i18n.js";
import { formatTime } from "../time.js";
import { Field, Notice, ProblemBox, ScreenTitle, boxWordsLang, problemText, usePoll, useAction } from "../ui.js";

const POLL_MS = 10000;
const STATUSES = ["queued", "sending", "sent", "failed", "dead", "skipped", "expired"];
const LIMITS = [50, 100, 500, 1000];
const RETRYABLE = new Set(["dead", "failed"]);
const LOOKUPS_PER_POLL = 10;

/* appointment id -> patient id (null: unknown for good); patient id ->
 * name (null: unknown for good). Kept while the page is open. */
const apptPatient = new Map();
const patientName = new Map();

/* Looks up the patients of up to LOOKUPS_PER_POLL appointments not seen
 * yet; true when something new was learnt. */
async function resolveNames(list, opts) {
  let learnt = false;
  let budget = LOOKUPS_PER_POLL;
  for (const n of list) {
    if (budget <= 0) break;
    const a = n.appointment_id;
    if (!a) continue;
    if (!apptPatient.has(a)) {
      budget--;
      const r = await api("GET", `/api/appointments/${encodeURIComponent(a)}`, opts);
      if (r.ok && r.json) apptPatient.set(a, r.json.patient_id || null);
      else if (r.status === 404 || r.status === 403) apptPatient.set(a, null);
      else continue; // try again at the next poll
      learnt = true;
    }
    const p = apptPatient.get(a);
    if (p && !patientName.has(p)) {
      budget--;
      const r = await api("GET", `/api/patients/${encodeURIComponent(p)}`, opts);
      if (r.ok && r.json) patientName.set(p, r.json.name);
      else if (r.status === 404 || r.status === 403) patientName.set(p, null);
      else continue;
      learnt = true;
    }
  }
  return learnt;
}

/* A message's time, short: "Mon, Dec 7, 06:18" in the clinic's zone. */
function when(iso, zone) {
  return iso ? `${formatTime(iso, zone, "dateShort")}, ${formatTime(iso, zone, "time")}` : "";
}

function nameOf(n) {
  const p = n.appointment_id ? apptPatient.get(n.appointment_id) : null;
  return p ? patientName.get(p) || "" : "";
}

/* "reminder_24h" -> "Reminder 24 hours before", and so on. */
export function purposeText(purpose) {
  const m = /^reminder_(\d+)h$/.exec(purpose || "");
  if (m) return t("messages.purpose.reminder", { hours: m[1] });
  const key = "messages.purpose." + purpose;
  const s = t(key);
  return s === key ? purpose : s;
}

function Row({ n, zone, problem, onRetry, busy }) {
  const name = nameOf(n);
  const errId = `msg-${n.id}-problem`;
  return html`<tr data-id=${n.id} data-status=${n.status}>
    <td>${t("messages.channel." + n.channel)}</td>
    <td>
      ${name && html`<span class="msg-patient">${name}</span>`}
      <span class="msg-recipient">${n.recipient || t("messages.no_recipient")}</span>
    </td>
    <td>${purposeText(n.purpose)}</td>
    <td><span class=${"badge " + n.status}>${t("messages.status." + n.status)}</span></td>
    <td class="num">${n.attempts}</td>
    <td class="msg-error" lang=${boxWordsLang(n.last_error)}>${n.last_error || ""}</td>
    <td>${when(n.created_at, zone)}</td>
    <td>
      ${n.sent_at
        ? when(n.sent_at, zone)
        : n.next_attempt_at && (n.status === "queued" || n.status === "failed")
          ? t("messages.next_try", { when: when(n.next_attempt_at, zone) })
          : ""}
    </td>
    <td>
      ${RETRYABLE.has(n.status) && html`<button type="button" class="secondary"
        disabled=${busy} aria-describedby=${problem ? errId : undefined}
        aria-label=${t("messages.retry_label", { to: name || n.recipient || purposeText(n.purpose) })}
        onClick=${() => onRetry(n)}>${t("messages.retry")}</button>`}
      ${problem && html`<p class="field-error" id=${errId} role="alert">${problemText(problem)}</p>`}
    </td>
  </tr>`;
}

export default function Messages({ app }) {
  const zone = app.clinic.timezone;
  const [status, setStatus] = useState(app.params.status || "");
  const [limit, setLimit] = useState(100);
  const [list, setList] = useState(null);
  const [etag, setEtag] = useState(null);
  const [loadProblem, setLoadProblem] = useState(null);
  const [rowProblems, setRowProblems] = useState({});
  const [notice, setNotice] = useState("");
  const [, setNames] = useState(0);
  const [busy, , run] = useAction();
  const [tick, setTick] = useState(0);

  const path = "/api/notifications" + query({ status, limit });
  /* a poll begun before a retry's answer, or for another filter, is stale
   * when it lands: dropped (as on Today) */
  const changes = useRef(0);
  const pathRef = useRef(path);
  pathRef.current = path;

  usePoll(async (opts) => {
    const seq = changes.current;
    const r = await api("GET", path, { ...opts, etag: etag || undefined });
    if (changes.current !== seq || pathRef.current !== path) return;
    let current = list;
    if (r.ok && !r.notModified && r.json) {
      current = r.json.notifications;
      setList(current);
      setEtag(r.etag);
      setLoadProblem(null);
    } else if (r.problem) {
      setLoadProblem(r.problem);
    }
    if (current && (await resolveNames(current, opts))) setNames((x) => x + 1);
  }, POLL_MS, [path, tick]);

  const changeFilter = (fn) => {
    setEtag(null);
    setRowProblems({});
    setNotice("");
    fn();
  };

  const retry = async (n) => {
    setNotice("");
    const r = await run(() => api("POST", `/api/notifications/${encodeURIComponent(n.id)}/retry`));
    if (!r) {
      setRowProblems((p) => ({ ...p, [n.id]: { status: 0, detail: t("problem.unreachable") } }));
      return;
    }
    if (r.ok) {
      changes.current += 1;
      setRowProblems((p) => ({ ...p, [n.id]: null }));
      setList((l) => (l ? l.map((x) => (x.id === n.id ? r.json : x)) : l));
      setNotice(t("messages.retried", { status: t("messages.status." + r.json.status) }));
      setEtag(null);
      setTick((x) => x + 1);
    } else {
      setRowProblems((p) => ({ ...p, [n.id]: r.problem }));
    }
  };

  return html`<section class="messages">
    <${ScreenTitle} text=${t("messages.title")} />
    <p class="muted">${t("messages.intro")}</p>
    <form class="msg-filters" onSubmit=${(e) => e.preventDefault()}>
      <${Field} id="msg-status" label=${t("messages.filter_status")}>
        <select id="msg-status" value=${status}
          onChange=${(e) => changeFilter(() => setStatus(e.target.value))}>
          <option value="">${t("messages.filter_all")}</option>
          ${STATUSES.map((s) => html`<option value=${s}>${t("messages.status." + s)}</option>`)}
        </select>
      <//>
      <${Field} id="msg-limit" label=${t("messages.filter_limit")}>
        <select id="msg-limit" value=${String(limit)}
          onChange=${(e) => changeFilter(() => setLimit(Number(e.target.value)))}>
          ${LIMITS.map((n) => html`<option value=${String(n)}>${n}</option>`)}
        </select>
      <//>
    </form>
    <${ProblemBox} problem=${loadProblem} />
    <${Notice} text=${notice} />
    ${list === null
      ? !loadProblem && html`<p class="loading">${t("app.loading")}</p>`
      : list.length === 0
        ? html`<p>${status ? t("messages.empty_status") : t("messages.empty")}</p>`
        : html`<div class="table-wrap" tabindex="0" role="region" aria-label=${t("messages.caption")}><table class="msg-table">
          <caption class="visually-hidden">${t("messages.caption")}</caption>
          <thead><tr>
            <th scope="col">${t("messages.col.channel")}</th>
            <th scope="col">${t("messages.col.to")}</th>
            <th scope="col">${t("messages.col.purpose")}</th>
            <th scope="col">${t("messages.col.status")}</th>
            <th scope="col">${t("messages.col.attempts")}</th>
            <th scope="col">${t("messages.col.error")}</th>
            <th scope="col">${t("messages.col.created")}</th>
            <th scope="col">${t("messages.col.sent")}</th>
            <th scope="col"><span class="visually-hidden">${t("messages.col.actions")}</span></th>
          </tr></thead>
          <tbody>
            ${list.map((n) => html`<${Row} key=${n.id} n=${n} zone=${zone}
              problem=${rowProblems[n.id]} busy=${busy} onRetry=${retry} />`)}
          </tbody>
        </table></div>`}
  </section>`;
}
