#!/usr/bin/env bash
# firmware/build-image.sh — the box's disk image (docs/firmware.md).
#
#   firmware/build-image.sh [--deb FILE] [--out DIR] [--size SIZE] [--system-only]
#
# A minimal Debian 12 system made by mmdebstrap with the clinicbox package
# (--deb FILE; without it, packaging/build-deb.sh builds one from this
# checkout), turned into ext4 file systems by `mke2fs -d` and put into a
# partitioned disk file by sfdisk and dd. No loop device, no mount: as root
# mmdebstrap works in its root mode; as another user in its unshare mode
# (subordinate ids in /etc/subuid and /etc/subgid needed), and the rest of
# the build runs in the same user namespace (mmdebstrap --unshare-helper).
#
# The disk (GPT):
#   1  clinicbox-efi   FAT32, 128 MiB  EFI system partition: GRUB as
#                      EFI/BOOT/BOOTX64.EFI, the same for every system
#   2  clinicbox-root  ext4, ROOT_SIZE the system (kernel and initrd included):
#                      replaced whole by an update
#   3  clinicbox-data  ext4, the rest  /var/lib/clinicbox, made empty once,
#                      never written by a build again
# GRUB finds the file system labelled clinicbox-root and runs its
# /boot/clinicbox/grub.cfg, so the kernel, the initrd and the kernel's
# command line travel with the system partition.
#
# Written to DIR (default build-image/ in this checkout):
#   clinicbox.img  the whole disk, to write onto the box's disk (dd, or any
#                  USB/disk imaging tool)  [not with --system-only]
#   system.img     the system partition alone: an update (docs/firmware.md)
#   vmlinuz, initrd.img, cmdline   the kernel, initrd and command line in
#                  system.img, for booting under QEMU without firmware
#   packages.txt   the installed Debian packages and versions
#
# Options:
#   --deb FILE      the clinicbox .deb to install (default: build one)
#   --out DIR       where the results go (default build-image)
#   --size SIZE     the disk's size (default 4G; the data partition gets what
#                   the system does not; at least 3G)
#   --root-size SZ  the system partition (default 1536M)
#   --system-only   make only system.img (and vmlinuz, initrd.img, cmdline)
#   --mirror URL    the Debian mirror (default http://deb.debian.org/debian)
#   --include PKGS  more Debian packages, comma-separated (say, firmware for
#                   the box's network card from non-free-firmware)
# Environment: SOURCE_DATE_EPOCH (mmdebstrap) for a reproducible root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)

deb="" out="$top/build-image" size=4G root_size=1536M system_only=0
mirror=http://deb.debian.org/debian
security_mirror=http://deb.debian.org/debian-security
include_extra=""
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --deb) deb=$(realpath "$2"); shift 2 ;;
    --out) out=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --root-size) root_size=$2; shift 2 ;;
    --system-only) system_only=1; shift ;;
    --mirror) mirror=$2; shift 2 ;;
    --include) include_extra=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "build-image: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

say() { echo "build-image: $*" >&2; }
die() { say "$*"; exit 1; }
for tool in mmdebstrap mke2fs sfdisk mkfs.vfat mcopy mmd grub-mkstandalone; do
  command -v "$tool" >/dev/null ||
    die "$tool is missing (apt-get install mmdebstrap e2fsprogs fdisk dosfstools mtools grub-efi-amd64-bin; scripts/deps.sh test installs them)"
done
[ -d /usr/lib/grub/x86_64-efi ] || die "grub-efi-amd64-bin is missing"
bytes() { numfmt --from=iec "${1%B}"; }
mib=$((1024 * 1024))
esp_mib=128
root_mib=$(($(bytes "$root_size") / mib))
disk_mib=$(($(bytes "$size") / mib))
[ "$root_mib" -ge 1024 ] || die "--root-size must be at least 1G"
[ "$system_only" = 1 ] || [ "$disk_mib" -ge $((1 + esp_mib + root_mib + 1024)) ] ||
  die "--size $size leaves less than 1 GiB for the data partition"

t0=$(date +%s)
if [ -z "$deb" ]; then
  [ -x "$top/packaging/build-deb.sh" ] || die "no --deb given and packaging/build-deb.sh is missing"
  say "building the clinicbox package (packaging/build-deb.sh)"
  # It prints the .deb's path as its last line.
  deb=$("$top/packaging/build-deb.sh" | tail -n 1)
  [ -n "$deb" ] || die "packaging/build-deb.sh named no package"
fi
[ -f "$deb" ] || die "no such package: $deb"
say "package: $deb"

mkdir -p "$out"
out=$(realpath "$out")
work=$(mktemp -d "$out/work.XXXXXX")
mode=root
[ "$(id -u)" = 0 ] || mode=unshare
# Runs a command as root inside the build's user namespace (unshare mode), or
# as it is (root mode): the root tree's files belong to ids of that namespace.
ns() {
  if [ "$mode" = root ]; then "$@"; else mmdebstrap --unshare-helper "$@"; fi
}
cleanup() { ns rm -rf --one-file-system "$work" 2>/dev/null || rm -rf "$work"; }
trap cleanup EXIT

# The kernel's command line, kept in the system partition. panic=10: a kernel
# that panics reboots after 10 s (a box nobody watches).
cmdline="root=LABEL=clinicbox-root ro rootfstype=ext4 console=tty0 console=ttyS0,115200n8 panic=10"

# What the system holds besides Debian's required packages: the kernel and its
# initramfs tooling, systemd as init with networkd, resolved (DNS and
# multicast DNS) and timesyncd, udev and dbus, fsck for ext4, certificates for
# TLS to the central server and the mail provider, curl and jq for the setup
# stick (usb-setup calls the box's own API), and the package's dependencies.
include="linux-image-amd64,initramfs-tools,systemd-sysv,systemd-timesyncd,systemd-resolved,udev,dbus,e2fsprogs,dosfstools,kmod,iproute2,ca-certificates,curl,jq,tzdata,less"
[ -z "$include_extra" ] || include="$include,$include_extra"

root=$work/root
say "mmdebstrap ($mode mode): Debian 12 with $include"
# The package is installed by apt with the rest (its dependencies with it;
# mmdebstrap's file-mirror-automount hooks make the file visible in the root).
# Hooks, in order: the box's files (firmware/rootfs) over the fresh system,
# the units enabled, the kernel's
# command line and GRUB's system config, the mount point left empty, DNS
# through resolved, a record of what this image is.
mmdebstrap --mode="$mode" --variant=apt --format=directory \
  --components=main,non-free-firmware \
  --include="$include" --include="$deb" \
  --hook-dir=/usr/share/mmdebstrap/hooks/file-mirror-automount \
  --aptopt='APT::Install-Recommends "false"' \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-include=/usr/share/doc/clinicbox/*' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
  --customize-hook="sync-in '$here/rootfs' /" \
  --customize-hook='chroot "$1" systemctl enable systemd-networkd.service systemd-resolved.service systemd-timesyncd.service clinicbox.service clinicbox-data.service clinicbox-usb-setup.service' \
  --customize-hook='chroot "$1" systemctl disable apt-daily.timer apt-daily-upgrade.timer 2>/dev/null || true' \
  --customize-hook="mkdir -p \"\$1/boot/clinicbox\" && printf '%s\n' '$cmdline' > \"\$1/boot/clinicbox/cmdline\"" \
  --customize-hook="printf '%s\n' '# The system partition boots this: GRUB on the EFI partition (firmware/esp-grub.cfg)' '# found the file system labelled clinicbox-root and runs this file.' 'linux /vmlinuz $cmdline' 'initrd /initrd.img' 'boot' > \"\$1/boot/clinicbox/grub.cfg\"" \
  --customize-hook='find "$1/var/lib/clinicbox" -mindepth 1 -delete 2>/dev/null || true; mkdir -p "$1/var/lib/clinicbox"; chown root:root "$1/var/lib/clinicbox"; chmod 0755 "$1/var/lib/clinicbox"' \
  --customize-hook='ln -sf ../run/systemd/resolve/stub-resolv.conf "$1/etc/resolv.conf"' \
  --customize-hook="chroot \"\$1\" dpkg-query -W -f '\${Package} \${Version}\n' > '$work/packages.txt'" \
  --customize-hook="printf 'built=%s\nclinicbox=%s\n' \"\$(date -u +%Y-%m-%dT%H:%M:%SZ)\" \"\$(chroot \"\$1\" dpkg-query -W -f '\${Version}' clinicbox)\" > \"\$1/etc/clinicbox-image\"" \
  bookworm "$root" \
  "deb $mirror bookworm main non-free-firmware" \
  "deb $mirror bookworm-updates main non-free-firmware" \
  "deb $security_mirror bookworm-security main non-free-firmware"

# The pieces the disk and a QEMU test need, taken from the system.
kver=$(ns sh -c "cd '$root/boot' && ls vmlinuz-*" | sed -n 's/^vmlinuz-//p' | sort -V | tail -1)
[ -n "$kver" ] || die "no kernel in the system"
ns cat "$root/boot/vmlinuz-$kver" > "$work/vmlinuz"
ns cat "$root/boot/initrd.img-$kver" > "$work/initrd.img"
printf '%s\n' "$cmdline" > "$work/cmdline"
# clinicbox's ids in this system, for the data partition's root.
ids=$(ns awk -F: '$1 == "clinicbox" {print $3 ":" $4}' "$root/etc/passwd")
[ -n "$ids" ] || die "the package made no clinicbox user"

say "system partition: ext4, ${root_mib} MiB (mke2fs -d)"
ns mke2fs -q -t ext4 -L clinicbox-root -d "$root" -E lazy_itable_init=0,lazy_journal_init=0 \
  -F "$work/system.img" "${root_mib}M"
[ "$mode" = root ] || ns chown "$(id -u):$(id -g)" "$work/system.img"

mv "$work/system.img" "$work/vmlinuz" "$work/initrd.img" "$work/cmdline" "$work/packages.txt" "$out/"
if [ "$system_only" = 1 ]; then
  say "done in $(($(date +%s) - t0)) s: $out/system.img (kernel $kver)"
  exit 0
fi

# The EFI system partition: GRUB for x86_64 UEFI as the removable-media
# path, so that no firmware boot entry is needed, with a config of its own
# built in (firmware/esp-grub.cfg).
say "EFI system partition: FAT32, ${esp_mib} MiB, GRUB"
# --modules: loaded before the config runs (GRUB loads no partition-table
# module by itself: without part_gpt its search finds no partition), and
# the video drivers the kernel's console needs under UEFI.
grub-mkstandalone --format=x86_64-efi --output="$work/BOOTX64.EFI" \
  --modules="part_gpt ext2 search search_label serial terminal configfile test echo sleep reboot all_video" \
  --locales="" --fonts="" --themes="" \
  "boot/grub/grub.cfg=$here/esp-grub.cfg"
mkfs.vfat -F 32 -n CLINICBOXEF -C "$work/esp.img" $((esp_mib * 1024)) >/dev/null
mmd -i "$work/esp.img" ::/EFI ::/EFI/BOOT
mcopy -i "$work/esp.img" "$work/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI

# The disk: GPT with the three partitions at fixed places.
say "disk: GPT, ${disk_mib} MiB"
disk=$work/clinicbox.img
truncate -s "${disk_mib}M" "$disk"
root_start=$((1 + esp_mib))
data_start=$((root_start + root_mib))
sfdisk --quiet "$disk" <<EOF
label: gpt
start=1MiB, size=${esp_mib}MiB, type=uefi, name=clinicbox-efi
start=${root_start}MiB, size=${root_mib}MiB, type=4f68bce3-e8cd-4db1-96e7-fbcaf984b709, name=clinicbox-root
start=${data_start}MiB, type=linux, name=clinicbox-data
EOF
# The data partition's size as sfdisk made it (the disk less its GPT copy).
data_sectors=$(sfdisk --dump "$disk" | awk -F'[=,]' '/name="clinicbox-data"/ {gsub(/ /, "", $4); print $4}')
[ -n "$data_sectors" ] || die "sfdisk made no data partition"
say "data partition: ext4, empty, $((data_sectors / 2048)) MiB, owned by clinicbox ($ids)"
mke2fs -q -t ext4 -L clinicbox-data -m 1 -E root_owner="$ids" \
  -F "$work/data.img" "$((data_sectors / 2))k"

dd if="$work/esp.img" of="$disk" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$out/system.img" of="$disk" bs=1M seek="$root_start" conv=notrunc,sparse status=none
dd if="$work/data.img" of="$disk" bs=1M seek="$data_start" conv=notrunc,sparse status=none
mv "$disk" "$out/clinicbox.img"
say "done in $(($(date +%s) - t0)) s: $out/clinicbox.img (kernel $kver), $out/system.img"
