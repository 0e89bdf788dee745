#!/usr/bin/env bash
# Installs what is missing, builds clinicbox and runs every test three times:
# in a normal build, with AddressSanitizer + UndefinedBehaviorSanitizer, and
# with ThreadSanitizer (the server is multi-threaded); the API tests of the
# normal build run once more with the test runner's clock 400 days ahead. A sanitizer report
# makes the server exit non-zero, which fails the test that stopped it.
# The UI tests (headless Chromium, tests/ui) run once, in the normal build.
# Then each libFuzzer target runs for 25 s (scripts/fuzz.sh short); a crash
# fails it. The last line sums the runs up ("N passed, N failed"; a fuzz
# target counts as one).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
scripts/deps.sh test || exit 1
# The servers the tests start that come from the npm registry (jongodb, the
# MongoDB-compatible test server), at the versions in the lock file.
npm ci --prefix tests/servers --no-audit --no-fund --loglevel=error || exit 1
# The UI tests' driver (playwright-core, which never downloads a browser: they
# use Debian's chromium) and axe-core, at the versions in the lock file.
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
  npm ci --prefix tests/ui --no-audit --no-fund --loglevel=error || exit 1

jobs=$(nproc)
passed=0
failed=0
status=0
# The UI tests (ui.*, headless Chromium) run in the normal build only: they
# test the web UI, which is the same in every build, and they are slow; the
# sanitizer builds check the C server, which the API tests drive harder.
# The shifted run takes only the API tests. The tests labelled `slow` (the
# Debian package in a Debian 12 root, tests/package; the box image's boot
# test under QEMU, tests/firmware, 7 to 12 minutes) never run here:
# scripts/slow-tests.sh runs them.
ctest_skip=()
run_suite() { # build-dir, cmake options...
  local dir=$1
  shift
  echo "== $dir: build ($*)"
  cmake -S . -B "$dir" "$@" >/dev/null || return 1
  cmake --build "$dir" -j"$jobs" 2>&1 | grep -vE '^\[ *[0-9]+%\]' || true
  [ "${PIPESTATUS[0]}" -eq 0 ] || return 1
  echo "== $dir: ctest"
  local log="$dir/ctest.log"
  (cd "$dir" && ctest --output-on-failure -j"$jobs" --timeout 900 -LE slow "${ctest_skip[@]}") 2>&1 | tee "$log"
  count "${PIPESTATUS[0]}" "$log"
}
# The API tests again with the test runner's own clock 400 days ahead
# (libfaketime), so that a test that only passes before some calendar date
# fails now, not when the calendar gets there. Every child a test starts on
# a faked clock gets an absolute time, so only what uses the real date moves.
# tests/shifted/sitecustomize.py works around libfaketime 0.9.10's broken
# absolute monotonic sleeps (its comment says more).
run_shifted() { # build-dir
  local dir=$1
  echo "== $dir: API tests again, the test runner's clock 400 days ahead"
  local log="$dir/ctest-shifted.log"
  (cd "$dir" && FAKETIME_DONT_FAKE_MONOTONIC=1 PYTHONPATH="$PWD/../tests/shifted" \
     LD_PRELOAD=/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1 FAKETIME=+400d \
     ctest --output-on-failure -j"$jobs" --timeout 900 -LE slow -R '^api\.test_') 2>&1 | tee "$log"
  count "${PIPESTATUS[0]}" "$log"
}
count() { # ctest's exit code, its log
  local rc=$1 log=$2
  local line
  line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1)
  if [ -n "$line" ]; then
    local total fails
    total=$(echo "$line" | sed -E 's/.*out of ([0-9]+).*/\1/')
    fails=$(echo "$line" | sed -E 's/.* ([0-9]+) tests? failed.*/\1/')
    passed=$((passed + total - fails))
    failed=$((failed + fails))
  else
    failed=$((failed + 1))
  fi
  return "$rc"
}

run_suite build -DCMAKE_BUILD_TYPE=RelWithDebInfo || status=1
# The randomized sync convergence test runs 6 random seeds in the normal
# build and 3 in each of the other three runs (15 a run in all): under the
# sanitizers a seed costs two to three times as much, and the whole suite
# must stay within 45 minutes on 2 cores.
export CLINICBOX_CONVERGE_SEEDS=3
run_shifted build || status=1
ctest_skip=(-E '^ui\.')
run_suite build-sanitize -DCMAKE_BUILD_TYPE=Debug -DCLINICBOX_SANITIZE=ON || status=1
TSAN_OPTIONS="exitcode=66 suppressions=$PWD/tests/tsan.supp ${TSAN_OPTIONS:-}" \
  run_suite build-tsan -DCMAKE_BUILD_TYPE=Debug -DCLINICBOX_TSAN=ON || status=1
# Each fuzz target (tests/fuzz, docs/fuzzing.md) for 25 s from its seeds, in
# its own clang build (build-fuzz); one target that crashes, trips a
# sanitizer or a check, leaks or hangs fails the stage. About 3 minutes.
run_fuzz() {
  local log=build-fuzz/short.log
  mkdir -p build-fuzz
  echo "== build-fuzz: each fuzz target 25 s (scripts/fuzz.sh short)"
  scripts/fuzz.sh short 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local ok bad
  ok=$(grep -cE '^fuzz: [a-z0-9_]+ +ok ' "$log")
  bad=$(grep -cE '^fuzz: [a-z0-9_]+ +FAILED' "$log")
  passed=$((passed + ok))
  failed=$((failed + bad))
  if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
    failed=$((failed + 1)) # the build, or a missing target
  fi
  return "$rc"
}
run_fuzz || status=1

echo
echo "$passed passed, $failed failed"
exit $status
