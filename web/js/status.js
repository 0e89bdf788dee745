/*
 * status.js — the status bar at the foot of every screen: whether the box
 * answers (the browser may have lost it), the central sync (state, changes
 * waiting to go up, the last successful round), the messages waiting or
 * given up, and the clock guard's warning (no-shows are held while the
 * clock looks wrong; docs/design.md).
 *
 * It polls GET /api/health (the whole picture, with the session) every 10 s
 * as a background request, and hears every other request's reachability
 * (api.js) so that a lost box shows at once.
 */
import { html, useEffect, useState } from "../vendor/htm-preact-standalone.js";
import { api } from "./api.js";
import { t, tn } from "./i18n.js";
import { formatTime } from "./time.js";
import { usePoll } from "./ui.js";

const POLL_MS = 10000;

function syncText(sync, zone) {
  if (!sync || !sync.enabled) return t("status.sync_off");
  const parts = [t("status.sync_" + sync.state)];
  if (sync.pending_changes) parts.push(tn("status.pending", sync.pending_changes));
  parts.push(sync.last_success_at
    ? t("status.last_sync", { when: formatTime(sync.last_success_at, zone) })
    : t("status.never_synced"));
  return parts.join(" · ");
}

export function StatusBar({ clinic }) {
  const [health, setHealth] = useState(null);
  const [reachable, setReachable] = useState(true);
  const zone = clinic ? clinic.timezone : "UTC";

  useEffect(() => {
    const on = (e) => setReachable(e.detail.reachable);
    window.addEventListener("clinicbox:reachability", on);
    return () => window.removeEventListener("clinicbox:reachability", on);
  }, []);

  usePoll(async (opts) => {
    const r = await api("GET", "/api/health", opts);
    if (r.json && r.json.outbox) setHealth(r.json);
  }, POLL_MS);

  const items = [];
  items.push(html`<li class=${reachable ? "ok" : "bad"} data-status="box">
    ${reachable ? t("status.box_ok") : t("status.box_lost")}</li>`);
  if (health) {
    const sync = health.sync;
    const bad = sync && sync.enabled && sync.state === "failing";
    items.push(html`<li class=${bad ? "warn" : "ok"} data-status="sync">${syncText(sync, zone)}</li>`);
    const o = health.outbox;
    const waiting = (o.queued || 0) + (o.sending || 0) + (o.failed || 0);
    items.push(html`<li class=${o.dead ? "warn" : "ok"} data-status="messages">
      ${tn("status.waiting", waiting)} · ${tn("status.dead", o.dead || 0)}</li>`);
    if (health.noshow && health.noshow.held)
      items.push(html`<li class="bad" data-status="clock">
        ${t("status.clock_held", { reason: health.noshow.reason || "" })}</li>`);
    if (sync && sync.clock_skew_suspected)
      items.push(html`<li class="warn" data-status="skew">${t("status.clock_skew")}</li>`);
  }
  return html`<footer class="statusbar" aria-label=${t("status.label")}>
    <div role="status" aria-live="polite"><ul>${items}</ul></div>
  </footer>`;
}
