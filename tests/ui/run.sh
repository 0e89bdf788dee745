#!/bin/sh
# ctest's runner for one UI test file (tests/CMakeLists.txt, docs/testing.md):
#   tests/ui/run.sh test_NAME.mjs
# Runs it with node:test in Debian's headless Chromium. A missing
# /usr/bin/chromium fails the test, unless CLINICBOX_UI_OPTIONAL=1: then the
# test is skipped (exit 77, ctest's SKIP_RETURN_CODE) and says why. Missing
# npm packages always fail it: `npm ci --prefix tests/ui` installs them
# (scripts/test.sh does).
cd "$(dirname "$0")" || exit 1
if [ ! -x /usr/bin/chromium ]; then
  if [ "${CLINICBOX_UI_OPTIONAL:-}" = 1 ]; then
    echo "SKIPPED: /usr/bin/chromium is missing (Debian package chromium) and CLINICBOX_UI_OPTIONAL=1"
    exit 77
  fi
  echo "FAILED: /usr/bin/chromium is missing: install the Debian package chromium" \
       "(scripts/deps.sh test), or set CLINICBOX_UI_OPTIONAL=1 to skip the UI tests"
  exit 1
fi
if [ ! -f node_modules/playwright-core/package.json ] || [ ! -f node_modules/axe-core/axe.min.js ]; then
  echo "FAILED: tests/ui/node_modules is missing: run npm ci --prefix tests/ui"
  exit 1
fi
# never a browser download, whatever the environment says
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
exec node --test --test-reporter=spec "$1"
