#!/usr/bin/env bash
# Rebuilds src/auth/common-passwords.txt, the list of common passwords that
# the password policy refuses (src/auth/password.c, docs/security.md).
#   scripts/common-passwords.sh [VERSION]    default: the version below
# Source: the npm package @zxcvbn-ts/language-common (MIT licence), whose
# src/passwords.json is a frequency-ordered list of leaked passwords (the
# zxcvbn project's list). Kept: the first COUNT distinct entries, lowercased,
# that are at least 8 characters long (shorter ones are refused by the length
# rule anyway), in frequency order; and the package's LICENSE.txt beside it,
# as src/auth/common-passwords.LICENSE. Needs npm and node.
set -euo pipefail

version=${1:-4.1.3}
count=10000
out="$(cd "$(dirname "$0")/.." && pwd)/src/auth/common-passwords.txt"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

(cd "$tmp" && npm pack --silent "@zxcvbn-ts/language-common@$version" >/dev/null && tar xzf ./*.tgz)
license=$(node -p "require('$tmp/package/package.json').license")
cp "$tmp/package/LICENSE.txt" "${out%.txt}.LICENSE"
node - "$tmp/package/src/passwords.json" "$count" "$version" "$license" >"$out" <<'JS'
const [file, count, version, license] = process.argv.slice(2);
const list = JSON.parse(require('fs').readFileSync(file, 'utf8'));
const seen = new Set(), keep = [];
for (const p of list) {
  const w = p.toLowerCase();
  // one per line: no line breaks; '#' starts a comment line
  if ([...w].length < 8 || /[\x00-\x1f\x7f]/.test(w) || w.startsWith('#') || seen.has(w)) continue;
  seen.add(w);
  keep.push(w);
  if (keep.length >= Number(count)) break;
}
process.stdout.write(
  `# Common passwords refused by the password policy (src/auth/password.c).\n` +
  `# Source: npm package @zxcvbn-ts/language-common ${version}, src/passwords.json\n` +
  `# (frequency-ordered), licence ${license}, text in common-passwords.LICENSE beside\n` +
  `# this file (Copyright (c) 2012-2016 Dan Wheeler and Dropbox, Inc.; 2021 @zxcvbn-ts).\n` +
  `# Kept: the first ${keep.length} distinct entries of at least 8 characters, lowercased,\n` +
  `# in frequency order. Made by scripts/common-passwords.sh; do not edit by hand.\n` +
  keep.join('\n') + '\n');
JS
echo "wrote $(grep -vc '^#' "$out") passwords to $out"
