/*
 * test_catalog.mjs — the UI's language catalogues are complete: English
 * and German have the same keys, each string keeps the other's
 * {placeholders}, every literal key the code asks for (t("..."),
 * tn("...")) exists, and no value is empty. Also that the vendored
 * Preact+htm file is the one web/vendor/README.md names. No browser needed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const WEB = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "web");

async function catalogue(lang) {
  const src = readFileSync(join(WEB, "js", "i18n", `${lang}.js`), "utf8");
  return (await import("data:text/javascript;base64," + Buffer.from(src).toString("base64"))).default;
}

function placeholders(s) {
  return [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
}

function jsFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === "i18n" ? [] : jsFiles(p);
    return name.endsWith(".js") ? [p] : [];
  });
}

test("English and German have the same keys and placeholders", async () => {
  const en = await catalogue("en");
  const de = await catalogue("de");
  assert.deepEqual(Object.keys(de).sort(), Object.keys(en).sort());
  for (const [k, v] of Object.entries(en)) {
    assert.ok(v.trim() && de[k].trim(), `empty string for ${k}`);
    assert.deepEqual(placeholders(de[k]), placeholders(v), `placeholders of ${k}`);
  }
});

test("every key the code names exists, counted ones with .one and .other", async () => {
  const en = await catalogue("en");
  const missing = [];
  for (const file of jsFiles(join(WEB, "js"))) {
    const src = readFileSync(file, "utf8");
    if (file.endsWith("i18n.js")) continue;
    // a literal key: t("a.b") or t("a.b", ...); "nav." + id is built at run time
    for (const m of src.matchAll(/\bt\(\s*"([\w.]+)"\s*[,)]/g))
      if (!(m[1] in en)) missing.push(`${file}: ${m[1]}`);
    for (const m of src.matchAll(/\btn\(\s*"([\w.]+)"\s*[,)]/g))
      for (const form of ["one", "other"])
        if (!(`${m[1]}.${form}` in en)) missing.push(`${file}: ${m[1]}.${form}`);
  }
  assert.deepEqual(missing, []);
});

test("the vendored Preact+htm file is the one its README names", () => {
  const readme = readFileSync(join(WEB, "vendor", "README.md"), "utf8");
  const named = readme.match(/`([0-9a-f]{64})`/);
  assert.ok(named, "web/vendor/README.md names no SHA-256");
  const actual = createHash("sha256")
    .update(readFileSync(join(WEB, "vendor", "htm-preact-standalone.js"))).digest("hex");
  assert.equal(actual, named[1]);
});
