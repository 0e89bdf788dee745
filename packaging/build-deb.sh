#!/usr/bin/env bash
# Builds the Debian package of clinicbox (packaging/README.md):
#
#   packaging/build-deb.sh [VERSION]
#
# VERSION is the package's version (default: the project's version with
# Debian revision 1, e.g. 0.1.0-1); the binary reports it too (`clinicbox
# version`, /api/health). Installs the build dependencies that are missing
# (scripts/deps.sh build), configures a build of the server alone in
# build-deb/ (or $CLINICBOX_DEB_BUILD_DIR) with Debian's hardening flags
# (dpkg-buildflags), the installed locations compiled in (web_dir, RUNPATH),
# and runs CPack's DEB generator (packaging/deb.cmake). Prints the path of
# the .deb as its last line.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD

project_version=$(sed -nE 's/^project\(clinicbox VERSION ([0-9.]+) .*/\1/p' CMakeLists.txt)
version=${1:-${project_version}-1}
if ! [[ $version =~ ^[0-9][A-Za-z0-9.+~-]*$ ]]; then
  echo "build-deb: \"$version\" is not a Debian version (digits first, then [A-Za-z0-9.+~-])" >&2
  exit 2
fi
build=${CLINICBOX_DEB_BUILD_DIR:-build-deb}

scripts/deps.sh build

# Debian's compiler and linker flags for packages, with all hardening
# (fortify, stack protector, full RELRO, bind now; PIE is the default),
# paths in debug info relative to the tree (reproducible).
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
cflags="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
ldflags=$(dpkg-buildflags --get LDFLAGS)

cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_INSTALL_PREFIX=/usr -DCLINICBOX_DEB=ON -DCLINICBOX_TESTS=OFF \
  -DCLINICBOX_VERSION="$version" \
  -DCLINICBOX_WEB_DIR=/usr/share/clinicbox/web \
  -DCLINICBOX_RUNPATH=/usr/lib/clinicbox \
  -DCMAKE_C_FLAGS="$cflags" \
  -DCMAKE_EXE_LINKER_FLAGS="$ldflags" -DCMAKE_SHARED_LINKER_FLAGS="$ldflags" >/dev/null
cmake --build "$build" -j"$(nproc)" 2>&1 | grep -vE '^\[ *[0-9]+%\]' || true
[ "${PIPESTATUS[0]}" -eq 0 ] || exit 1
rm -f "$build"/clinicbox_*.deb
(cd "$build" && cpack -G DEB >/dev/null)

realpath "$build"/clinicbox_"$version"_*.deb
