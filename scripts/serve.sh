#!/usr/bin/env bash
# Installs what is missing, builds clinicbox and starts the server with the
# embedded default: SQLite in ./clinicbox-data, https://127.0.0.1:8080 with
# a self-signed certificate made at first start (the log line "serving on
# https://..." ends with its SHA-256 fingerprint, to compare with what the
# browser shows), no external services. Extra arguments go to
# `clinicbox serve` (try --help; `--set tls=off` serves plain HTTP).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
exec build/clinicbox serve "$@"
