/*
 * Every page in web/ as the box serves it (src/http/static.c), opened
 * fresh with no login and no data, the way a first visitor sees it: it
 * loads its files with the right types under the strict CSP (nothing
 * refused, nothing missing, no script error, no dialog), weighs under
 * 200 KB, passes axe, and fits the 1024x768 desk screen without sideways
 * scrolling. A page added to web/ is covered here without a new test; its
 * own test then drives it logged in and with data.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';

import {
  WEB_DIR, assertClean, assertNoHorizontalScroll, assertWeight, axeCheck, newPage, screenshot, sharedServer,
} from './harness.mjs';

/* web/NAME.html is served at /NAME, index.html at / (web/README.md). */
const PAGES = fs.readdirSync(WEB_DIR).filter((f) => f.endsWith('.html')).sort()
  .map((f) => (f === 'index.html' ? '/' : `/${f.replace(/\.html$/, '')}`));

const shared = sharedServer();

test('web/ has pages to test', () => {
  assert.ok(PAGES.includes('/rebook'), PAGES.join(' '));
});

for (const url of PAGES) {
  test(`${url} loads cleanly under the CSP, under 200 KB, accessible, no sideways scroll`, async (t) => {
    const { server } = shared;
    const page = await newPage(t, server);
    const res = await page.goto(server.url(url));
    assert.equal(res.status(), 200, `${url}: ${res.status()}`);
    const headers = res.headers();
    assert.match(headers['content-type'], /^text\/html/);
    assert.match(headers['content-security-policy'], /script-src 'self';/);
    await page.waitForLoadState('load');
    // every stylesheet and script the page names came (a refused or missing
    // one is a console error too; this says which)
    const files = await page.evaluate(() => ({
      sheets: [...document.styleSheets].map((s) => ({ href: s.href, rules: s.cssRules.length })),
      scripts: [...document.scripts].map((s) => s.src),
    }));
    for (const s of files.sheets) assert.ok(s.rules > 0, `${s.href} has no rules: not loaded?`);
    assert.ok(files.scripts.every((src) => src), `${url} has an inline script`);
    // scripts ran their first step (network idle: the first API answers are in)
    await page.waitForLoadState('networkidle', { timeout: 3000 }).catch(() => {}); // not with long-polling
    assertClean(page);
    await assertWeight(page);
    await assertNoHorizontalScroll(page);
    await axeCheck(page, url);
    await screenshot(page, url === '/' ? 'index' : url.slice(1).replace(/\//g, '-'));
  });
}
