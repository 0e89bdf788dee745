/*
 * login.js — the login form, and the first-run setup that exists only
 * while the box has no admin (GET /api/session says setup_required).
 *
 * Both end with a session (the cookie is set by the answer); onDone gets
 * the session (with its CSRF token).
 *
 * When a session ends while a screen is open, the login is a modal dialog
 * over that screen (`dialog`), which stays as it was, typed text included:
 * the user logs in again and goes on (app.js).
 */
import { html, useEffect, useRef, useState } from "../vendor/htm-preact-standalone.js";
import { api } from "./api.js";
import { t } from "./i18n.js";
import { Field, ProblemBox, fieldProps, useAction } from "./ui.js";

export function Login({ message, onDone, dialog = false, username: known = "" }) {
  const [username, setUsername] = useState(known);
  const [password, setPassword] = useState("");
  const [busy, problem, run] = useAction();
  const box = useRef(null);

  /* A dialog takes the focus when it opens (WCAG 2.4.3): onto the message,
   * which says why, so that a screen reader reads it first. */
  useEffect(() => {
    if (dialog && box.current) box.current.focus();
  }, [dialog]);

  const submit = async (ev) => {
    ev.preventDefault();
    const r = await run(() => api("POST", "/api/session", { body: { username, password } }));
    if (r && r.ok) onDone(r.json);
  };

  const form = html`<form class="card" onSubmit=${submit} aria-labelledby="login-title">
      <h1 id="login-title" tabindex="-1" ref=${box}>${t("login.title")}</h1>
      ${message && html`<p class="notice" id="login-message" role="status">${message}</p>`}
      <${ProblemBox} problem=${problem} />
      <${Field} id="login-username" label=${t("login.username")} problem=${problem} field="username">
        <input ...${fieldProps("login-username", problem, "username")} autocomplete="username"
          autocapitalize="none" spellcheck="false" required value=${username}
          onInput=${(e) => setUsername(e.target.value)} />
      <//>
      <${Field} id="login-password" label=${t("login.password")} problem=${problem} field="password">
        <input ...${fieldProps("login-password", problem, "password")} type="password"
          autocomplete="current-password" required value=${password}
          onInput=${(e) => setPassword(e.target.value)} />
      <//>
      <button type="submit" disabled=${busy}>${t("login.submit")}</button>
    </form>`;
  if (dialog)
    return html`<div class="login relogin" role="dialog" aria-modal="true" aria-labelledby="login-title"
        aria-describedby=${message ? "login-message" : undefined}>${form}</div>`;
  return html`<main class="login" id="main">${form}</main>`;
}

export function Setup({ onDone }) {
  const [username, setUsername] = useState("admin");
  const [password, setPassword] = useState("");
  const [again, setAgain] = useState("");
  const [busy, problem, run, setProblem] = useAction();

  const submit = async (ev) => {
    ev.preventDefault();
    if (password !== again) {
      setProblem({ status: 422, detail: t("setup.mismatch"),
        errors: [{ field: "again", message: t("setup.mismatch") }] });
      return;
    }
    const r = await run(() => api("POST", "/api/setup", { body: { username, password } }));
    if (r && r.ok) onDone(r.json);
  };

  return html`<main class="login" id="main">
    <form class="card" onSubmit=${submit} aria-labelledby="setup-title">
      <h1 id="setup-title">${t("setup.title")}</h1>
      <p>${t("setup.intro")}</p>
      <${ProblemBox} problem=${problem} />
      <${Field} id="setup-username" label=${t("setup.username")} problem=${problem} field="username"
        hint=${t("setup.username_hint")}>
        <input ...${fieldProps("setup-username", problem, "username", true)} autocomplete="username"
          autocapitalize="none" spellcheck="false" required value=${username}
          onInput=${(e) => setUsername(e.target.value)} />
      <//>
      <${Field} id="setup-password" label=${t("setup.password")} problem=${problem} field="password"
        hint=${t("setup.password_hint")}>
        <input ...${fieldProps("setup-password", problem, "password", true)} type="password"
          autocomplete="new-password" required minlength="8" value=${password}
          onInput=${(e) => setPassword(e.target.value)} />
      <//>
      <${Field} id="setup-again" label=${t("setup.again")} problem=${problem} field="again">
        <input ...${fieldProps("setup-again", problem, "again")} type="password"
          autocomplete="new-password" required value=${again}
          onInput=${(e) => setAgain(e.target.value)} />
      <//>
      <button type="submit" disabled=${busy}>${t("setup.submit")}</button>
    </form>
  </main>`;
}
