#!/usr/bin/env bash
# Installs the Debian 12 packages clinicbox needs that are not installed yet.
#   scripts/deps.sh build   what building and running the server needs
#   scripts/deps.sh test    that, plus what the test suite needs
#   scripts/deps.sh slow    that, plus what the slow tests need (scripts/slow-tests.sh)
# Runs apt-get only when something is missing (as root, or through sudo).
set -euo pipefail

# libssl-dev: OpenSSL's headers and libcrypto/libssl for pkg-config; the
# server makes its certificate with libcrypto and builds the libssl.so shim
# that lets Debian's libcivetweb load OpenSSL 3 (src/shim/).
# dpkg-dev: dpkg-buildflags and dpkg-shlibdeps for the Debian package
# (packaging/build-deb.sh).
build_pkgs=(build-essential cmake pkg-config tzdata ca-certificates
            libsqlite3-dev libcivetweb-dev libjansson-dev libsodium-dev
            libcurl4-openssl-dev libmongoc-dev libbson-dev libssl-dev curl dpkg-dev)
# python3-jsonschema and python3-yaml: the API tests check every answer
# against docs/openapi.yaml (tests/api/openapi_check.py).
# clang-14 and libclang-rt-14-dev: the fuzz targets (libFuzzer, scripts/fuzz.sh).
# chromium and fonts-dejavu-core: the UI tests drive Debian's headless
# Chromium (tests/ui, docs/testing.md); a fixed font keeps their screenshots
# and contrast checks the same from machine to machine.
test_pkgs=(python3 python3-aiosmtpd python3-pymongo python3-jsonschema python3-yaml
           faketime sqlite3 openssl clang-14 libclang-rt-14-dev chromium fonts-dejavu-core)
# Only for the slow tests (scripts/slow-tests.sh), which scripts/test.sh
# leaves out: mmdebstrap and lintian for the package test (tests/package
# installs the .deb into a Debian 12 root made with mmdebstrap and checks it
# with lintian); mmdebstrap, e2fsprogs, fdisk, dosfstools, mtools and
# grub-efi-amd64-bin build the box's image (firmware/build-image.sh), and
# qemu-system-x86 and ovmf boot it in its test (tests/firmware).
slow_pkgs=(mmdebstrap lintian e2fsprogs fdisk dosfstools mtools grub-efi-amd64-bin
           qemu-system-x86 ovmf)
# Commands the tests need that may come from elsewhere than Debian's
# packages (CI machines ship their own Node.js): installed from Debian only
# when the command is missing.
test_cmds=("node:nodejs" "npm:npm")

level=${1:-build}
want=("${build_pkgs[@]}")
if [ "$level" = test ] || [ "$level" = slow ]; then
  want+=("${test_pkgs[@]}")
fi
if [ "$level" = slow ]; then
  want+=("${slow_pkgs[@]}")
fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ "$level" = test ] || [ "$level" = slow ]; then
  for c in "${test_cmds[@]}"; do
    if ! command -v "${c%%:*}" >/dev/null 2>&1; then
      missing+=("${c#*:}")
    fi
  done
fi
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "clinicbox: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
