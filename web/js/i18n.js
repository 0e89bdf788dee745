/*
 * i18n.js — every string the staff UI shows comes from one catalogue per
 * language (js/i18n/en.js, js/i18n/de.js, the same keys in both;
 * tests/ui/test_catalog.mjs checks that). t("key", {name: "x"}) looks a
 * string up and fills in its {name} placeholders; a key missing from the
 * catalogue shows as the key itself, so a gap is visible, never blank.
 *
 * Which language: the clinic's `language` setting (GET /api/clinic) when it
 * names one, else ("auto") the first of the browser's languages that has a
 * catalogue, else English. Before login the clinic cannot be read: the
 * choice made at the last visit (localStorage) or the browser's language.
 *
 * Only the chosen language's catalogue is loaded (each is about 25 KB, a
 * good part of a screen's 200 KB): setLanguage() imports it and resolves
 * once t() can use it. The catalogues are complete (test_catalog.mjs), so
 * no second one is needed as a fallback.
 */
const LOADERS = {
  en: () => import("./i18n/en.js"),
  de: () => import("./i18n/de.js"),
};
const loaded = {};
const STORE_KEY = "clinicbox-language";

let current = "en";

/* The language for a clinic setting ("auto", "en", "de" or undefined). */
export function chooseLanguage(setting, browserLanguages) {
  if (setting && setting !== "auto" && LOADERS[setting]) return setting;
  for (const l of browserLanguages || []) {
    const base = String(l).toLowerCase().split("-")[0];
    if (LOADERS[base]) return base;
  }
  return "en";
}

/* Switches to a language once its catalogue is loaded (a promise). */
export async function setLanguage(code) {
  const next = LOADERS[code] ? code : "en";
  if (!loaded[next]) loaded[next] = (await LOADERS[next]()).default;
  current = next;
  document.documentElement.lang = current;
  try {
    window.localStorage.setItem(STORE_KEY, current);
  } catch (e) {
    /* private mode: the choice is not remembered */
  }
}

/* At start, before the clinic's setting is known (a promise). */
export function initialLanguage() {
  let saved = "";
  try {
    saved = window.localStorage.getItem(STORE_KEY) || "";
  } catch (e) {
    saved = "";
  }
  return setLanguage(LOADERS[saved] ? saved : chooseLanguage("auto", navigator.languages));
}

export function language() {
  return current;
}

/* The locale for dates and numbers: the browser's own when it speaks the
 * UI's language (en-GB writes "8 December 2026", 24-hour), else the
 * language itself. */
export function locale() {
  for (const l of navigator.languages || []) {
    if (String(l).toLowerCase().split("-")[0] === current) return l;
  }
  return current;
}

export function t(key, vars) {
  const s = (loaded[current] || {})[key] ?? key;
  if (!vars) return s;
  return s.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

/* A counted phrase: the catalogue has KEY.one and KEY.other (CLDR plural
 * categories of the language; German and English need only these two). */
export function tn(key, n, vars) {
  const cat = new Intl.PluralRules(current).select(n);
  const k = (loaded[current] || {})[`${key}.${cat}`] !== undefined ? `${key}.${cat}` : `${key}.other`;
  return t(k, { n, ...(vars || {}) });
}
