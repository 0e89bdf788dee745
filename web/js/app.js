/*
 * app.js — the staff UI's shell: who is logged in, the first-run setup,
 * the login, the navigation by role, the status bar, and which screen is
 * shown.
 *
 * A session that ends while a screen is open (15 minutes idle, closed by an
 * admin, the password changed: any 401, see api.js) does not take the
 * screen away: it is kept, with whatever was typed in it, but hidden and
 * inert under a login dialog that says why (a desk left alone shows no
 * patient data). The same user logging in again goes on where they were,
 * the focus back where it was (a change that was refused is made by
 * pressing its button again, now with the new CSRF token); another user
 * gets the screens of their own role, fresh.
 *
 * Screens are ES modules in js/screens/, listed in js/screens/index.js with
 * the roles that may open them; a screen's module is loaded only when it is
 * opened, so a screen loads only what it needs. The address is the hash
 * ("#/today", "#/patients?id=..."): the server serves this one page for
 * "/", and a reload or a bookmark opens the same screen.
 *
 * What every screen gets (props.app): session (username, role, doctor_id),
 * clinic (name, timezone, language, ...), reloadClinic(), navigate(screen,
 * params) and params (the hash's query).
 */
import { html, render, useEffect, useRef, useState } from "../vendor/htm-preact-standalone.js";
import { api, setCsrf } from "./api.js";
import { chooseLanguage, initialLanguage, setLanguage, t } from "./i18n.js";
import { SCREENS } from "./screens/index.js";
import { StatusBar } from "./status.js";
import { Login, Setup } from "./login.js";

/* The hash as { screen, params }. */
function parseHash() {
  const h = window.location.hash.replace(/^#\/?/, "");
  const [name, q] = h.split("?");
  return { screen: name || "", params: Object.fromEntries(new URLSearchParams(q || "")) };
}

export function navigate(screen, params) {
  const q = params ? new URLSearchParams(params).toString() : "";
  window.location.hash = "#/" + screen + (q ? "?" + q : "");
}

function useHash() {
  const [route, setRoute] = useState(parseHash());
  useEffect(() => {
    const on = () => setRoute(parseHash());
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return route;
}

/* Loads the screen's module when it is opened. */
function ScreenHost({ entry, app }) {
  const [mod, setMod] = useState(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let live = true;
    setMod(null);
    setFailed(false);
    entry.load().then((m) => live && setMod(m), () => live && setFailed(true));
    return () => {
      live = false;
    };
  }, [entry.id]);
  if (failed) return html`<p class="problem" role="alert">${t("app.load_failed")}</p>`;
  if (!mod) return html`<p class="loading">${t("app.loading")}</p>`;
  const Screen = mod.default;
  return html`<${Screen} app=${app} />`;
}

/* The skip link moves the focus; it must not change the hash (the route). */
function skipToMain(ev) {
  ev.preventDefault();
  const main = document.getElementById("main");
  if (main) main.focus();
}

function Nav({ screens, current, session, onLogout }) {
  return html`<header class="topbar">
    <nav aria-label=${t("nav.label")}>
      <ul>
        ${screens.map((s) => html`<li key=${s.id}>
          <a href=${"#/" + s.id} aria-current=${s.id === current ? "page" : undefined}>
            ${t("nav." + s.id)}</a></li>`)}
      </ul>
    </nav>
    <div class="who">
      <span>${t("nav.signed_in_as", { name: session.username, role: t("role." + session.role) })}</span>
      <button type="button" class="secondary" onClick=${onLogout}>${t("nav.logout")}</button>
    </div>
  </header>`;
}

function App() {
  const route = useHash();
  const [state, setState] = useState({ phase: "loading" });
  const [clinic, setClinic] = useState(null);
  /* where the focus was when the session ended: it goes back there after
   * the login again (WCAG 2.4.3). The last element focused in the screen,
   * not document.activeElement: a button that was pressed is disabled
   * while its request runs, and that drops the focus to <body>. */
  const lastFocus = useRef(null);
  const returnFocus = useRef(null);

  const reloadClinic = async () => {
    const r = await api("GET", "/api/clinic");
    if (r.ok) {
      await setLanguage(chooseLanguage(r.json.language, navigator.languages)).catch(() => null);
      setClinic(r.json);
    }
    return r;
  };

  const begin = async (session) => {
    setCsrf(session.csrf_token, session.username);
    await reloadClinic();
    setState({ phase: "in", session });
  };

  const check = async (message) => {
    try {
      const r = await api("GET", "/api/session");
      if (!r.ok) return setState({ phase: "error", problem: r.problem });
      const s = r.json;
      if (s.authenticated && s.kind === "session") return begin(s);
      if (s.setup_required) return setState({ phase: "setup" });
      setState({ phase: "login", message: message || (s.session_ended ? t("login.ended") : "") });
    } catch (e) {
      setState({ phase: "error", problem: { status: 0, detail: t("problem.unreachable") } });
    }
  };

  /* The login dialog over a screen whose session ended. */
  const resume = (session) => {
    if (session.username !== state.session.username) return begin(session);
    setCsrf(session.csrf_token, session.username);
    setState({ phase: "in", session });
  };

  useEffect(() => {
    check();
    const ended = () => {
      /* before the screen turns inert and drops the focus; the first end
       * only (the dialog's own focus is no place to return to) */
      if (!returnFocus.current) returnFocus.current = lastFocus.current || document.body;
      setCsrf("");
      setState((s) => (s.phase === "in" ? { ...s, ended: true } : s));
    };
    const focused = (ev) => {
      if (ev.target instanceof Element && ev.target.closest(".shell")) lastFocus.current = ev.target;
    };
    window.addEventListener("clinicbox:session-ended", ended);
    document.addEventListener("focusin", focused);
    return () => {
      window.removeEventListener("clinicbox:session-ended", ended);
      document.removeEventListener("focusin", focused);
    };
  }, []);

  useEffect(() => {
    if (state.phase !== "in" || state.ended || !returnFocus.current) return;
    const el = returnFocus.current;
    returnFocus.current = null;
    if (el.isConnected && el !== document.body) el.focus();
    else if (document.activeElement === document.body) {
      /* gone (another user's fresh screen focuses its own title) */
      const main = document.getElementById("main");
      if (main) main.focus();
    }
  }, [state]);

  const logout = async () => {
    await api("DELETE", "/api/session").catch(() => null);
    setCsrf("");
    setState({ phase: "login", message: t("login.logged_out") });
  };

  if (state.phase === "loading") return html`<main><p class="loading">${t("app.loading")}</p></main>`;
  if (state.phase === "error")
    return html`<main><h1>clinicbox</h1><p class="problem" role="alert">
      ${state.problem.detail || t("problem.other", { status: state.problem.status })}</p>
      <button type="button" onClick=${() => check()}>${t("app.retry")}</button></main>`;
  if (state.phase === "setup") return html`<${Setup} onDone=${begin} />`;
  if (state.phase === "login")
    return html`<${Login} message=${state.message} onDone=${begin} />`;

  const session = state.session;
  const allowed = SCREENS.filter((s) => s.roles.includes(session.role));
  const entry = allowed.find((s) => s.id === route.screen) || allowed[0];
  if (entry && entry.id !== route.screen && !route.screen) navigate(entry.id);
  const app = { session, clinic, reloadClinic, navigate, params: route.params };
  const ended = !!state.ended;
  /* keyed by user too: another user's login gets a fresh screen */
  return html`
    <div class="shell" inert=${ended}>
      <a class="skip" href="#main" onClick=${skipToMain}>${t("app.skip")}</a>
      <${Nav} screens=${allowed} current=${entry && entry.id} session=${session} onLogout=${logout} />
      <main id="main" tabindex="-1">
        ${entry && route.screen && entry.id !== route.screen
          ? html`<p class="problem" role="alert">${t("app.not_allowed")}</p>` : null}
        ${entry && clinic && html`<${ScreenHost} key=${session.username + "/" + entry.id} entry=${entry}
          app=${app} />`}
      </main>
      <${StatusBar} session=${session} clinic=${clinic} />
    </div>
    ${ended && html`<${Login} dialog=${true} message=${t("login.ended")} username=${session.username}
      onDone=${resume} />`}`;
}

/* the first screen is drawn in a language whose catalogue is there; a
 * catalogue that fails to load leaves keys visible, never a blank page */
initialLanguage().catch(() => null).then(() => render(html`<${App} />`, document.getElementById("app")));
