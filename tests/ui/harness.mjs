/*
 * harness.mjs — end-to-end tests of the web UI in Debian's headless Chromium
 * (docs/testing.md, "UI tests"), for node:test files tests/ui/test_*.mjs.
 *
 * The real `clinicbox serve` binary ($CLINICBOX_BIN, else build/clinicbox)
 * runs on a free loopback port over plain HTTP with a fresh data directory
 * and web_dir set to this tree's web/, optionally on a libfaketime clock;
 * the test seeds it through the JSON API with an admin API token made by
 * `clinicbox token create`, as tests/api/harness.py does. playwright-core
 * drives /usr/bin/chromium (never a downloaded browser), one browser per
 * test file and a fresh browser context (no cookies, no storage, no cache)
 * per page.
 *
 * Every page from newPage() is guarded: a dialog (alert, confirm, prompt:
 * what an XSS payload opens) is dismissed and fails the test, and so do an
 * uncaught error in the page and a console error (a CSP violation, a file
 * the page asks for that is missing, an API answer of 5xx); an API answer
 * of 4xx is an expected problem+json and allowed, as is the 404 of the
 * /favicon.ico Chromium asks for by itself. The guards are checked by
 * the helpers below and again when the test ends. Each response's size is
 * recorded for assertWeight(). Cleanup (pages, then servers) runs in
 * reverse order of creation when the test ends, failed or not.
 */
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { chromium } from 'playwright-core';

const run = promisify(execFile);

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, '..', '..');
export const WEB_DIR = path.join(REPO, 'web');
export const BIN = process.env.CLINICBOX_BIN || path.join(REPO, 'build', 'clinicbox');
export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = process.env.CLINICBOX_UI_ARTIFACTS || path.join(REPO, 'build', 'ui-artifacts');
export const FAKETIME_LIB = '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1';
/* What a screen may load in all (issue 11): bytes on the wire, no gzip. */
export const WEIGHT_LIMIT = 200 * 1024;

const TEST_FILE = path.basename(process.argv[1] || 'ui', '.mjs');
const DEFAULT_TIMEOUT = 10_000; // ms a Playwright action or wait may take

/* -- cleanup ------------------------------------------------------------- */

const stacks = new WeakMap(); // TestContext -> [fn], run last-in first-out
const everyServer = new Set(); // killed at exit if a test left one running

/*
 * Runs fn when the test `t` ends (after the test's body, failed or not),
 * in reverse order of defer() calls; an error thrown fails the test.
 */
/* "YYYY-MM-DD" of an instant in a time zone. Built from formatToParts, not
 * from a locale whose date pattern looks like ISO ("en-CA" writes 12/7/2026
 * under the ICU of Debian 12's Node.js 18). */
export function zoneDay(zone, ms = Date.now()) {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: zone, year: 'numeric', month: '2-digit',
    day: '2-digit' }).formatToParts(ms);
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get('year')}-${get('month')}-${get('day')}`;
}

export function defer(t, fn) {
  let stack = stacks.get(t);
  if (!stack) {
    stack = [];
    stacks.set(t, stack);
    t.after(async () => {
      const errors = [];
      while (stack.length) {
        try {
          await stack.pop()();
        } catch (e) {
          errors.push(e);
        }
      }
      if (errors.length === 1) throw errors[0];
      if (errors.length) throw new AggregateError(errors, errors.map((e) => e.message).join('\n'));
    });
  }
  stack.push(fn);
}

/* After the file's tests. Root-level after hooks run in the order they were
 * registered, this one (imported first) before the test file's own: so a
 * server the file shares is not touched here. One a test left running is
 * killed a minute later if it still holds the process open, and at exit. */
after(async () => {
  await closeBrowser();
  setTimeout(() => {
    for (const s of everyServer) s.kill();
  }, 60_000).unref();
});
process.on('exit', () => {
  for (const s of everyServer) s.kill();
});

/* -- the server ------------------------------------------------------------ */

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/* An SQL literal for the sqlite3 command line (which binds no parameters). */
export function sqlQuote(v) {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number') return String(v);
  return "'" + String(v).replace(/'/g, "''") + "'";
}

export class Server {
  /*
   * opts.faketime: "YYYY-MM-DD HH:MM:SS" (UTC): the server's wall clock
   *   starts there and runs on (libfaketime, monotonic clock real);
   * opts.env: extra environment (e.g. CLINICBOX_NOSHOW_INTERVAL_SECONDS);
   * opts.args: extra `serve` arguments (later --set win);
   * opts.webDir: the directory served (default: this tree's web/);
   * opts.data: an existing data directory (kept; default: a fresh one).
   */
  constructor(opts = {}) {
    this.faketime = opts.faketime || null;
    this.extraEnv = opts.env || {};
    this.args = opts.args || [];
    this.webDir = opts.webDir || WEB_DIR;
    this.ownData = !opts.data;
    this.data = opts.data || fs.mkdtempSync(path.join(os.tmpdir(), 'clinicbox-ui-'));
    this.port = null;
    this.proc = null;
    this.token = null;
    this.exited = null;
    this.startedAt = null; // [faked epoch ms, performance.now()] at the start
  }

  /* The environment of the server and of the commands run on its data. */
  env() {
    const env = { ...process.env, FAKETIME_DONT_FAKE_MONOTONIC: '1', TZ: 'UTC' };
    if (this.faketime) {
      // what `faketime -f` does, without its wrapper in between (signals
      // must reach the server itself); never the runner's own faked clock
      delete env.FAKETIME_SHARED;
      env.LD_PRELOAD = FAKETIME_LIB;
      env.FAKETIME = '@' + this.faketime;
    }
    return Object.assign(env, this.extraEnv);
  }

  /* Unix ms on the server's clock (faked or real), as it runs on. */
  now() {
    if (!this.faketime) return Date.now();
    const [epoch, t0] = this.startedAt;
    return epoch + (performance.now() - t0);
  }

  url(p = '/') {
    return `http://127.0.0.1:${this.port}${p}`;
  }

  logPath() {
    return path.join(this.data, `server-${this.port}.log`);
  }

  log() {
    try {
      return fs.readFileSync(this.logPath(), 'utf8');
    } catch {
      return '';
    }
  }

  logTail(n = 4000) {
    return this.log().slice(-n);
  }

  async start() {
    fs.accessSync(BIN, fs.constants.X_OK);
    for (let attempt = 0; ; attempt++) {
      this.port = await freePort();
      const out = fs.openSync(this.logPath(), 'a');
      const args = ['serve', '--data', this.data, '--listen', `127.0.0.1:${this.port}`,
        '--set', 'tls=off', '--set', `web_dir=${this.webDir}`, ...this.args];
      if (this.faketime) {
        this.startedAt = [Date.parse(this.faketime.replace(' ', 'T') + 'Z'), performance.now()];
        assert.ok(!Number.isNaN(this.startedAt[0]), `faketime "${this.faketime}" is not YYYY-MM-DD HH:MM:SS`);
      }
      this.proc = spawn(BIN, args, { env: this.env(), stdio: ['ignore', out, out] });
      fs.closeSync(out);
      this.exited = new Promise((resolve) => this.proc.on('exit', (code, sig) => resolve({ code, sig })));
      this.proc.on('exit', () => everyServer.delete(this));
      everyServer.add(this);
      try {
        await this.waitReady();
        break;
      } catch (e) {
        // another process took the port between freePort() and the bind
        if (!e.portTaken || attempt === 2) throw e;
        await this.exited;
      }
    }
    await this.adminToken();
    return this;
  }

  /* Waits until ready(log) says the server is ready; fails at once with
   * its log if it exits meanwhile (e.portTaken: its port was taken). */
  async waitReady(timeoutMs = 30_000) {
    let exit = null;
    this.exited.then((x) => { exit = x; });
    await until(() => `clinicbox to become ready:\n${this.logTail()}`, () => {
      const log = this.log();
      if (exit) {
        const e = new Error(`clinicbox exited (${exit.code ?? exit.sig}) at start:\n${log.slice(-4000)}`);
        e.portTaken = log.includes('cannot listen on');
        throw e;
      }
      return this.ready(log);
    }, { timeout: timeoutMs, interval: 50 });
  }

  /* Whether the server is ready, given its log so far: it printed its
   * start line and answers GET /api/health. A subclass that serves
   * otherwise (say, over TLS) overrides this. */
  async ready(log) {
    if (!log.includes(`serving on http://127.0.0.1:${this.port} `)) return false;
    try {
      return (await fetch(this.url('/api/health'))).status === 200;
    } catch {
      return false; // not yet
    }
  }

  /* `clinicbox ARGS --data DATA` on the server's clock; {stdout, stderr}. */
  async cli(args, { input } = {}) {
    return new Promise((resolve, reject) => {
      const p = execFile(BIN, [...args, '--data', this.data], { env: this.env(), timeout: 120_000 },
        (err, stdout, stderr) => {
          if (err) reject(new Error(`clinicbox ${args.join(' ')}: ${err.message}\n${stdout}\n${stderr}`));
          else resolve({ stdout, stderr });
        });
      if (input !== undefined) p.stdin.end(input);
    });
  }

  /* The test's admin API token, made after the server's own start (so
   * that the server, not the command, migrates the database). */
  async adminToken() {
    if (!this.token) {
      const { stdout } = await this.cli(['token', 'create', '--name', 'ui-tests', '--role', 'admin']);
      this.token = stdout.trim().split(/\s+/).pop();
    }
    return this.token;
  }

  /*
   * One API call as the test's admin (opts.auth === false: anonymous;
   * opts.headers: more headers). {status, headers, json, text}; with
   * opts.expect, asserts the status and says what came instead.
   */
  async api(method, p, body, opts = {}) {
    const headers = { ...(opts.headers || {}) };
    if (opts.auth !== false) headers.Authorization = `Bearer ${this.token}`;
    let payload;
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const r = await fetch(this.url(p), { method, headers, body: payload });
    const text = await r.text();
    let json = null;
    if (text && (r.headers.get('content-type') || '').includes('json')) json = JSON.parse(text);
    const res = { status: r.status, headers: r.headers, json, text };
    if (opts.expect !== undefined) {
      assert.equal(r.status, opts.expect, `${method} ${p} ${JSON.stringify(body) ?? ''}: ${r.status} ${text.slice(0, 500)}`);
    }
    return res;
  }

  /* A read-only query with the sqlite3 command line: an array of row
   * objects. Quote values with sqlQuote(); the database is DATA/clinicbox.db. */
  async sql(query) {
    const db = `file:${path.join(this.data, 'clinicbox.db')}?mode=ro`;
    const { stdout } = await run('sqlite3', ['-json', '-cmd', '.timeout 10000', db, query]);
    return stdout.trim() ? JSON.parse(stdout) : [];
  }

  /* SIGTERM, and a clean exit (else the test fails with the log). */
  async stop() {
    if (!this.proc) return;
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc && this.proc.kill('SIGKILL'), 30_000);
    const { code, sig } = await this.exited;
    clearTimeout(timer);
    this.proc = null;
    if (code !== 0) throw new Error(`clinicbox exited with ${code ?? sig}:\n${this.logTail()}`);
  }

  kill() {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }

  cleanup() {
    this.kill();
    if (this.ownData && !process.env.CLINICBOX_KEEP_TEST_DATA) {
      fs.rmSync(this.data, { recursive: true, force: true });
    }
  }

  /* stop(), then cleanup() even if the exit was unclean (which still throws). */
  async shutdown() {
    try {
      await this.stop();
    } finally {
      this.cleanup();
    }
  }

  /* -- seed data ------------------------------------------------------- */

  /*
   * The clinic (name, zone), one doctor working 08:00-18:00 every day,
   * one patient. Returns {doctor, patient} as the API answered them.
   */
  async seed({ clinic = 'Praxis Sonnenschein', timezone = 'Europe/Berlin', doctor = 'Dr. Berta Brandt',
    slotMinutes = 15, patient = {} } = {}) {
    await this.api('PUT', '/api/clinic', { name: clinic, timezone }, { expect: 200 });
    const d = (await this.api('POST', '/api/doctors', { name: doctor, slot_minutes: slotMinutes }, { expect: 201 })).json;
    const weekly = [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, start: '08:00', end: '18:00' }));
    await this.api('PUT', `/api/doctors/${d.id}/schedule`, { weekly, exceptions: [] }, { expect: 200 });
    const p = await this.addPatient(patient);
    return { doctor: d, patient: p };
  }

  async addPatient(fields = {}) {
    const body = { name: 'Anna Müller', email: 'anna@example.org', phone: '+4915112345678', ...fields };
    return (await this.api('POST', '/api/patients', body, { expect: 201 })).json;
  }

  /* An appointment; start is ISO 8601 with its offset. */
  async book(doctor, patient, start, extra = {}) {
    const body = { doctor_id: doctor.id, patient_id: patient.id, start, ...extra };
    return (await this.api('POST', '/api/appointments', body, { expect: 201 })).json;
  }

  /*
   * A reschedule offer for the appointment, and its link's token: from the
   * database (notifications.link_token), where it stays while the offer's
   * message is still to be sent (no channel is configured here, so the
   * messages wait as `queued`). Returns {offer, token}.
   */
  async offer(appointment, options = 3) {
    const offer = (await this.api('POST', `/api/appointments/${appointment.id}/reschedule`, { options },
      { expect: 201 })).json;
    const rows = await this.sql(`SELECT DISTINCT link_token FROM notifications WHERE offer_id = ${sqlQuote(offer.id)}`);
    assert.equal(rows.length, 1, `one token for the offer's messages: ${JSON.stringify(rows)}`);
    const token = rows[0].link_token;
    assert.match(token || '', /^[A-Za-z0-9_-]{43}$/, 'the offer link token');
    return { offer, token };
  }

  /* A staff account made through POST /api/users; {username, password}. */
  async addUser(username, role, { password, doctorId } = {}) {
    const pw = password || `pw-${username}-Kx9!long`;
    const body = { username, password: pw, role };
    if (doctorId) body.doctor_id = doctorId;
    await this.api('POST', '/api/users', body, { expect: 201 });
    return { username, password: pw };
  }
}

/*
 * Starts a server (opts as for new Server; or a Server the test made
 * itself, say of a subclass or on another's data) and, when `t` is a
 * TestContext, shuts it down when the test ends (a dirty exit fails the
 * test) and removes its data (if its own). With t = null the caller stops
 * it: server.shutdown(); for one server shared by a file's tests see
 * sharedServer().
 */
export async function startServer(t, opts = {}) {
  browser().catch(() => {}); // Chromium starts meanwhile; newPage() says if it failed
  const s = opts instanceof Server ? opts : new Server(opts);
  try {
    await s.start();
  } catch (e) {
    s.cleanup();
    throw e;
  }
  if (t) defer(t, () => s.shutdown());
  return s;
}

/*
 * One server for all of a file's tests (a server's start and stop take
 * seconds): registers a `before` hook that starts it (opts as for
 * startServer) and runs `await setup(server)`, and an `after` hook that
 * shuts it down. Returns the object the tests read, filled in by the
 * `before` hook: {server, ...what setup returned}. Call it at the top
 * level of the test file.
 */
export function sharedServer(opts = {}, setup = async () => ({})) {
  const shared = {};
  before(async () => {
    shared.server = await startServer(null, opts); // set first: after() stops it if setup fails
    Object.assign(shared, await setup(shared.server));
  });
  after(async () => {
    if (shared.server) await shared.server.shutdown();
  });
  return shared;
}

/* -- the browser ------------------------------------------------------------ */

let browserPromise = null;

/* The file's one Chromium (launched on first use, closed after its tests).
 * Playwright gives each launch a fresh temporary profile (user data dir). */
export function browser() {
  if (!browserPromise) {
    fs.accessSync(CHROMIUM, fs.constants.X_OK);
    const env = { ...process.env };
    for (const k of ['LD_PRELOAD', 'FAKETIME', 'FAKETIME_SHARED']) delete env[k];
    browserPromise = chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      env,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }
  return browserPromise;
}

export async function closeBrowser() {
  if (browserPromise) {
    const b = await browserPromise.catch(() => null);
    browserPromise = null;
    if (b) await b.close();
  }
}

const guardsOf = new WeakMap(); // Page -> {errors, allowed, sizes, pending}

function guards(page) {
  const g = guardsOf.get(page);
  assert.ok(g, 'not a page from newPage()');
  return g;
}

/*
 * A fresh browser context and page, closed when the test ends.
 * opts: viewport {width, height} (default 1024x768, the desk PC and the
 *   doctor's tablet), locale (default en-GB), timezoneId (default
 *   America/New_York: never the clinic's, so that a time shown in the
 *   browser's zone instead of the clinic's is caught), bypassCSP (only for
 *   a context whose page could not run otherwise; never needed for axe),
 *   clock: 'server' to start the page's Date at the server's faked time
 *   (Playwright's clock; it runs on from there), and any other option of
 *   browser.newContext().
 * The page is guarded: see the top of this file. allowConsoleError(page,
 * re) lets a test expect a console error.
 */
export async function newPage(t, server, opts = {}) {
  const { clock, ...ctxOpts } = opts;
  const b = await browser();
  const context = await b.newContext({
    viewport: { width: 1024, height: 768 },
    locale: 'en-GB',
    timezoneId: 'America/New_York',
    serviceWorkers: 'block',
    ...ctxOpts,
  });
  const page = await context.newPage();
  page.setDefaultTimeout(DEFAULT_TIMEOUT);
  const g = { errors: [], allowed: [], sizes: [], pending: new Set(), server };
  guardsOf.set(page, g);

  page.on('dialog', (dialog) => {
    g.errors.push(`a ${dialog.type()} dialog opened: ${JSON.stringify(dialog.message())} (script from a name or text ran?)`);
    dialog.dismiss().catch(() => {});
  });
  page.on('pageerror', (err) => {
    g.errors.push(`uncaught error in the page: ${err.stack || err.message}`);
  });
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    const where = msg.location().url || '';
    const at = new URL(where || '/', 'http://x/').pathname;
    // a problem+json answer the page asked for and handles (4xx from the
    // API), and the icon Chromium asks for on its own when a page names none
    if (/the server responded with a status of 4\d\d/.test(text) && (at.startsWith('/api/') || at === '/favicon.ico')) return;
    const said = `console error: ${text}${where ? ` (${where})` : ''}`;
    if (g.allowed.some((re) => re.test(said))) return;
    g.errors.push(said);
  });
  page.on('requestfinished', (req) => {
    const p = req.sizes().then((s) => {
      g.sizes.push({ url: req.url(), bytes: s.responseHeadersSize + s.responseBodySize });
    }, () => {}).finally(() => g.pending.delete(p));
    g.pending.add(p);
  });

  if (clock === 'server') await page.clock.install({ time: server.now() });
  if (t) {
    defer(t, async () => {
      try {
        assertClean(page);
      } finally {
        await context.close().catch(() => {});
      }
    });
  }
  return page;
}

/* Lets the page log console errors matching re without failing the test
 * (say, a test that stops the server on purpose). re is matched against
 * the guard's line: "console error: TEXT (URL)". */
export function allowConsoleError(page, re) {
  guards(page).allowed.push(re);
}

/* What the guards caught so far, and forgets it: for a test that expects
 * them to catch something (tests/ui/test_harness.mjs). */
export function takeGuardErrors(page) {
  return guards(page).errors.splice(0);
}

/* Fails if a dialog opened, the page threw, or it logged a console error. */
export function assertClean(page) {
  const { errors } = guards(page);
  assert.deepEqual(errors, [], `the page ${page.url()}:\n  ${errors.join('\n  ')}`);
}

/* -- generic checks ------------------------------------------------------ */

/*
 * The bytes the page loaded since it opened (or since resetWeight()):
 * every finished response's headers and body as they came over the wire
 * (the server does not compress). {total, responses: [{url, bytes}]}.
 */
export async function weight(page) {
  const g = guards(page);
  await page.waitForLoadState('load');
  await Promise.all([...g.pending]);
  const responses = [...g.sizes].sort((a, b) => b.bytes - a.bytes);
  return { total: responses.reduce((n, r) => n + r.bytes, 0), responses };
}

export function resetWeight(page) {
  guards(page).sizes.length = 0;
}

/* Fails if the page loaded more than `limit` bytes (default 200 KiB).
 * Call it once the screen shows its content, in a fresh page. */
export async function assertWeight(page, limit = WEIGHT_LIMIT) {
  assertClean(page);
  const w = await weight(page);
  const list = w.responses.map((r) => `${String(r.bytes).padStart(8)}  ${r.url}`).join('\n');
  assert.ok(w.total > 0, 'no response was recorded');
  assert.ok(w.total <= limit, `the screen loaded ${w.total} bytes, over ${limit}:\n${list}`);
  return w;
}

let axeSource = null;

/*
 * Runs axe-core (WCAG 2.0/2.1 A and AA rules, and best practices) on the
 * page as it is now and fails on any serious or critical violation, listing
 * each with its nodes. axe is evaluated through the DevTools protocol
 * (page.evaluate of its source), which the page's CSP does not govern, so
 * the page keeps its strict CSP: no bypassCSP. Returns axe's results.
 * opts.include / opts.exclude: CSS selectors to scan or skip.
 */
export async function axeCheck(page, name, opts = {}) {
  assertClean(page);
  if (!axeSource) axeSource = fs.readFileSync(path.join(HERE, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
  if (!(await page.evaluate('typeof window.axe === "object"'))) await page.evaluate(axeSource);
  const results = await page.evaluate(async (o) => {
    const context = o.include || o.exclude ? { include: o.include || [document], exclude: o.exclude || [] } : document;
    const r = await window.axe.run(context, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
      resultTypes: ['violations'],
    });
    return { violations: r.violations, url: r.url };
  }, { include: opts.include, exclude: opts.exclude });
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const text = bad.map((v) => `[${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n` +
    v.nodes.map((n) => `    ${n.target.join(' ')}: ${n.failureSummary.replace(/\n/g, ' ')}\n      ${n.html}`).join('\n'))
    .join('\n');
  assert.equal(bad.length, 0, `axe: ${name} (${results.url}) has serious or critical violations:\n${text}`);
  return results;
}

/* A full-page PNG in the artifacts directory (CLINICBOX_UI_ARTIFACTS,
 * default build/ui-artifacts/), named after the test file and `name`. */
export async function screenshot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${TEST_FILE}--${name.replace(/[^A-Za-z0-9._-]+/g, '-')}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/* Whether the page scrolls sideways at its current viewport (a small phone
 * must not need to). Fails with the widths. */
export async function assertNoHorizontalScroll(page) {
  const w = await page.evaluate(() => ({
    scroll: document.scrollingElement.scrollWidth, inner: window.innerWidth,
  }));
  assert.ok(w.scroll <= w.inner, `the page is ${w.scroll} px wide in a ${w.inner} px window: it scrolls sideways`);
}

/*
 * Waits until `cond()` (sync or async) gives something truthy, and returns
 * it: a condition polled every `interval` ms, never a fixed sleep. Fails
 * after `timeout` ms with "waited N ms for WHAT"; `what` is a string, or a
 * function giving one then (say, with the last value seen). An error
 * thrown by cond fails at once.
 */
export async function until(what, cond, { timeout = 20_000, interval = 100 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() >= deadline) assert.fail(`waited ${timeout} ms for ${typeof what === 'function' ? what() : what}`);
    await sleep(interval);
  }
}

/*
 * Holds the page's background polls (requests with Clinicbox-Background: 1)
 * of the API path `pathname`: each is fetched from the server at once, in
 * full (without If-None-Match, as if something had changed meanwhile), and
 * its answer kept back; the user's own requests pass. Makes the page poll
 * (a visibilitychange) and waits until one is held. Returns release(),
 * which delivers the answers held, stops holding, and waits until the page
 * has handled them (two frames and a task): for a test that a late answer
 * does not undo what the user did meanwhile.
 */
export async function holdBackgroundPolls(page, pathname) {
  const held = [];
  const matches = (url) => url.pathname === pathname;
  const hold = async (route) => {
    const req = route.request();
    if (req.headers()['clinicbox-background'] !== '1') return route.continue();
    const headers = { ...req.headers() };
    delete headers['if-none-match'];
    const response = await route.fetch({ headers });
    held.push(() => route.fulfill({ response }));
  };
  await page.route(matches, hold);
  await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
  await until(`a background poll of ${pathname} under way`, () => held.length > 0);
  return async () => {
    for (const release of held.splice(0)) await release();
    await page.unroute(matches, hold);
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 0)))));
  };
}

/* Waits until the locator's text matches `expected` (a string it must
 * contain, or a RegExp); fails with the last text seen. */
export async function expectText(locator, expected, { timeout = DEFAULT_TIMEOUT } = {}) {
  const ok = (s) => (expected instanceof RegExp ? expected.test(s) : s.includes(expected));
  const deadline = Date.now() + timeout;
  let last = null;
  for (;;) {
    last = await locator.textContent({ timeout: Math.max(1, deadline - Date.now()) }).catch((e) => `(${e.message.split('\n')[0]})`);
    if (last !== null && ok(last)) return last;
    if (Date.now() >= deadline) break;
    await sleep(50);
  }
  assert.fail(`expected text ${expected} in ${locator}, saw: ${JSON.stringify(last)}`);
}

/* -- logins ---------------------------------------------------------------- */

/*
 * Logs the page's browser context in without the login screen: POST
 * /api/session through the context's own request client, so the session
 * cookie lands in the context as a browser login would leave it (the UI
 * reads the CSRF token from GET /api/session). For tests of other screens.
 */
export async function loginCookie(page, username, password) {
  const r = await page.request.post(guards(page).server.url('/api/session'), { data: { username, password } });
  assert.equal(r.status(), 201, `login ${username}: ${r.status()} ${await r.text()}`);
}

/*
 * Logs in through the login screen (web/js/login.js: #login-username,
 * #login-password, the form's submit button; by id, so in any language),
 * opening / first when the page is elsewhere, and waits until the form
 * is gone (fails at once with the message the form shows instead). The box must have an admin account (else / shows the first-run
 * setup instead: see setupPage()).
 */
export async function loginPage(page, username, password) {
  const { server } = guards(page);
  if (!page.url().startsWith(server.url('/'))) await page.goto(server.url('/'));
  const form = await screenOf(page);
  assert.equal(form, 'login', 'the login screen: the box shows the first-run setup (it has no admin ' +
    'account yet: server.addUser(NAME, "admin") first)');
  await page.locator('#login-username').fill(username);
  await page.locator('#login-password').fill(password);
  await page.locator('form:has(#login-password) button[type=submit]').click();
  await formGone(page, '#login-password', 'login');
}

/* Waits until the form with `field` is gone; fails at once with the
 * problem it shows instead (a wrong password, a refused one). */
async function formGone(page, field, what) {
  const problem = page.locator(`form:has(${field}) [role=alert]`);
  const gone = page.locator(field).waitFor({ state: 'detached' }).then(() => null);
  const refused = problem.waitFor().then(() => problem.textContent());
  const said = await Promise.race([gone, refused]);
  gone.catch(() => {});
  refused.catch(() => {});
  assert.equal(said, null, `${what} refused: ${said}`);
  assertClean(page);
}

/*
 * Creates the first admin through the first-run setup (#setup-username,
 * #setup-password, #setup-again), shown at / while the box has no admin
 * account, and waits until the form is gone (the admin is then logged in).
 */
export async function setupPage(page, username, password) {
  const { server } = guards(page);
  if (!page.url().startsWith(server.url('/'))) await page.goto(server.url('/'));
  assert.equal(await screenOf(page), 'setup', 'the first-run setup: the box already has an admin');
  await page.locator('#setup-username').fill(username);
  await page.locator('#setup-password').fill(password);
  await page.locator('#setup-again').fill(password);
  await page.locator('form:has(#setup-again) button[type=submit]').click();
  await formGone(page, '#setup-again', 'first-run setup');
}

/* Which of the login forms the page shows: 'login' or 'setup'. */
async function screenOf(page) {
  await page.locator('#login-password, #setup-password').first().waitFor();
  return (await page.locator('#setup-password').count()) ? 'setup' : 'login';
}
