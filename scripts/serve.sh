#!/usr/bin/env bash
# Installs what is missing, builds clinicbox and starts the server with the
# embedded default: SQLite in ./clinicbox-data, http://127.0.0.1:8080, no
# external services. Extra arguments go to `clinicbox serve` (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
exec build/clinicbox serve "$@"
