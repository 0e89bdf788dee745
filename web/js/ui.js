/*
 * ui.js — the small building blocks every screen uses, so that forms,
 * errors and polling look and behave the same everywhere.
 *
 * Accessibility (WCAG 2.1 AA): every input has a <label>; a field's error
 * is linked to it with aria-describedby and aria-invalid; a problem shown
 * for a whole form is a role="alert" region; buttons are <button>s.
 */
import { html, useEffect, useRef, useState } from "../vendor/htm-preact-standalone.js";
import { api, fieldError } from "./api.js";
import { language, t } from "./i18n.js";

export { html };

/* The box writes its problems (detail, field messages) in English. In
 * another UI language they are marked lang="en" (WCAG 3.1.2, language of
 * parts), so that a screen reader reads them as English. A problem is the
 * box's when it has its RFC 9457 `type`; one the UI made (the box
 * unreachable, two passwords differ) is in the UI's language. */
export function boxLang(problem) {
  return boxWordsLang(problem && problem.type);
}

/* The lang attribute for the box's own English words (a message's last
 * error, an audit detail) when there are any: "en" in another UI language. */
export function boxWordsLang(words) {
  return words && language() !== "en" ? "en" : undefined;
}

/* The words to show for an API problem: its detail (the box says what is
 * wrong in plain words), else a sentence for its status. In another UI
 * language than English, the sentence for its status comes first and the
 * box's English detail follows, marked as English. */
export function problemText(problem) {
  if (!problem) return "";
  const key = `problem.${problem.status}`;
  const s = t(key);
  const said = s === key ? t("problem.other", { status: problem.status }) : s;
  if (!problem.detail) return said;
  if (!boxLang(problem)) return problem.detail;
  return html`${said} <span lang="en">${problem.detail}</span>`;
}

/* A labelled form control. `field` names the API field whose error (from
 * `problem.errors`) shows under it. children: the control itself, which
 * must have id={id}. */
export function Field({ id, label, problem, field, hint, children }) {
  const err = fieldError(problem, field || id);
  return html`<div class=${"field" + (err ? " has-error" : "")}>
    <label for=${id}>${label}</label>
    ${children}
    ${hint && html`<p class="hint" id=${id + "-hint"}>${hint}</p>`}
    ${err && html`<p class="field-error" id=${id + "-error"} lang=${boxLang(problem)}>${err}</p>`}
  </div>`;
}

/* Props for an input inside Field: aria-invalid and aria-describedby. */
export function fieldProps(id, problem, field, hint) {
  const err = fieldError(problem, field || id);
  const by = [hint ? id + "-hint" : "", err ? id + "-error" : ""].filter(Boolean).join(" ");
  return { id, name: field || id, "aria-invalid": err ? "true" : undefined,
    "aria-describedby": by || undefined };
}

/* A problem for the whole form (or a screen): shown when set. */
export function ProblemBox({ problem, children }) {
  if (!problem) return null;
  return html`<div class="problem" role="alert">
    <p>${problemText(problem)}</p>${children}</div>`;
}

/* A polite live region for "Saved", "Booked", ... */
export function Notice({ text }) {
  return html`<p class="notice" role="status" aria-live="polite">${text || ""}</p>`;
}

/* Calls fn now and every `ms` while the screen is shown and the tab is
 * visible (a hidden tab does not poll; it polls at once when it comes
 * back). The first call after the screen opens or `deps` change is what
 * the user asked for (opening the screen, another day, another filter): fn
 * gets { background: false }, so that it counts as activity and keeps the
 * session (docs/security.md). The timer's calls and the one when the tab
 * becomes visible again get { background: true } to pass on to api(). */
export function usePoll(fn, ms, deps = []) {
  const saved = useRef(fn);
  saved.current = fn;
  useEffect(() => {
    let timer = 0;
    let stopped = false;
    const run = async (background) => {
      if (stopped) return;
      clearTimeout(timer);
      if (document.visibilityState !== "hidden") {
        try {
          await saved.current({ background });
        } catch (e) {
          /* unreachable: the status bar says so; try again later */
        }
      }
      if (!stopped) timer = setTimeout(() => run(true), ms);
    };
    const onVisible = () => {
      if (document.visibilityState === "visible") run(true);
    };
    document.addEventListener("visibilitychange", onVisible);
    run(false);
    return () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisible);
    };
  }, deps);
}

/* State for an async action: [busy, problem, run(fn)]. run() clears the
 * problem, sets busy, and keeps the problem of an answer that is not ok. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);
  const run = async (fn) => {
    setBusy(true);
    setProblem(null);
    try {
      const r = await fn();
      if (r && r.problem) setProblem(r.problem);
      return r;
    } catch (e) {
      setProblem({ status: 0, detail: t("problem.unreachable") });
      return null;
    } finally {
      setBusy(false);
    }
  };
  return [busy, problem, run, setProblem];
}

/* What a screen reads once when it opens (GET path) and again on reload():
 * { data, etag, problem, reload, set, setProblem }. data is null until the
 * first answer; problem is that of the last read that failed (or the box
 * could not be reached), cleared by one that succeeds. set(data, etag)
 * keeps what a change answered (a PUT's body and ETag) without reading
 * again. onLoad, when given, gets each body read, e.g. to fill a form. */
export function useResource(path, onLoad) {
  const [got, setGot] = useState({ data: null, etag: null });
  const [problem, setProblem] = useState(null);
  const saved = useRef(onLoad);
  saved.current = onLoad;
  const reload = async () => {
    try {
      const r = await api("GET", path);
      if (r.ok) {
        setGot({ data: r.json, etag: r.etag });
        if (saved.current) saved.current(r.json);
        setProblem(null);
      } else setProblem(r.problem);
    } catch (e) {
      setProblem({ status: 0, detail: t("problem.unreachable") });
    }
  };
  useEffect(() => {
    reload();
  }, []);
  const set = (data, etag) => setGot({ data, etag });
  return { data: got.data, etag: got.etag, problem, reload, set, setProblem };
}

/* A section heading that takes the focus when a screen opens, so that a
 * screen-reader user hears where they are. */
export function ScreenTitle({ text }) {
  const ref = useRef(null);
  useEffect(() => {
    if (ref.current) ref.current.focus();
  }, [text]);
  return html`<h1 tabindex="-1" ref=${ref}>${text}</h1>`;
}
