#!/usr/bin/env bash
# Runs the slow tests, the ctest tests labelled `slow` that scripts/test.sh
# leaves out: today the Debian package end to end (package.deb,
# tests/package: build it at two versions, install, upgrade, remove and
# purge it in a Debian 12 root; 2 to 3 minutes, docs/packaging.md) and
# the box image's boot test (firmware.image, tests/firmware: the image built
# by firmware/build-image.sh, booted under QEMU without KVM, powered off
# hard, its system partition replaced; 7 to 12 minutes, docs/firmware.md).
# CLINICBOX_DEB=FILE gives the image a package built before. Needs root and
# the Debian mirror the machine's apt uses. Installs what is missing first
# (scripts/deps.sh slow). The last line sums them up ("N passed, N failed").
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
scripts/deps.sh slow || exit 1
# Configured only: each slow test builds what it tests itself (the package
# test runs packaging/build-deb.sh in build/package-test/).
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || exit 1
log=build/ctest-slow.log
(cd build && ctest --output-on-failure -V -L slow --timeout 3600) 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1)
if [ -n "$line" ]; then
  total=$(echo "$line" | sed -E 's/.*out of ([0-9]+).*/\1/')
  fails=$(echo "$line" | sed -E 's/.* ([0-9]+) tests? failed.*/\1/')
else
  total=1 fails=1
fi
echo
echo "$((total - fails)) passed, $fails failed"
exit "$rc"
