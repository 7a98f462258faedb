#!/usr/bin/env bash
# Builds a bootable Debian cloud image (BIOS and UEFI) from Debian packages into
# .cache/guest/debian-<release>/: disk.qcow2, vmlinuz + initrd.img (for direct
# kernel boot as a fallback), packages.txt, manifest.json and SHA256SUMS.
#
#   bash scripts/guest/debian/build.sh [bookworm|trixie] [--force]
#
# Exit status: 0 built or cached, 3 the mirror does not serve that release
# (callers may skip), anything else a failure.
#
# The image behaves like a downloaded "genericcloud" image: no password, no SSH
# key, cloud-init (NoCloud first) configures it at first boot, SSH host keys and
# the machine-id are made at first boot, and the root filesystem grows to the
# disk. No loop devices and no mounts: the root filesystem is made from a
# directory with `mke2fs -d`, the EFI system partition with mtools, the GRUB
# images with grub-mkimage, and they are written into a GPT disk at their
# offsets. See README.md beside this file for the layout and the BIOS details.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
say() { printf 'debian: [%3ss] %s\n' "$SECONDS" "$*"; }
die() { echo "debian: error: $*" >&2; exit 1; }
usage() { echo "usage: $0 [bookworm|trixie] [--force]" >&2; exit 2; }

release=bookworm force=0
for arg in "$@"; do
  case "$arg" in
    bookworm | trixie) release="$arg" ;;
    --force) force=1 ;;
    -h | --help) usage ;;
    *) echo "debian: unknown argument: $arg" >&2; usage ;;
  esac
done
# What goes into the image besides the `apt` variant (Essential packages + apt).
# dbus: without it systemd-logind does not run and the ACPI power button is
# ignored. cloud-guest-utils (growpart) + fdisk (sfdisk, which growpart uses on
# GPT) + e2fsprogs (resize2fs): the root grows to the disk. openssh-sftp-server:
# scp in OpenSSH >= 9 speaks SFTP. No systemd-timesyncd: nothing in the image
# reaches out to the network unless user-data asks for it.
PACKAGES=(linux-image-cloud-amd64 initramfs-tools systemd-sysv udev dbus
  cloud-init cloud-guest-utils qemu-guest-agent openssh-server openssh-sftp-server
  netbase iproute2 sudo e2fsprogs fdisk procps)
# Networking, which cloud-init configures from NoCloud network-config v1/v2 or
# its fallback (DHCP on the first NIC):
# - bookworm: ifupdown + isc-dhcp-client (cloud-init 22.4 renders ENI).
# - trixie: systemd-networkd (in the systemd package) + systemd-resolved for
#   DNS. Not ifupdown: cloud-init 25's fallback also asks for DHCPv6, which
#   ifupdown runs as a blocking `dhclient -6`; without a DHCPv6 server (QEMU's
#   user network has none) networking.service hangs for its 5 minute timeout.
case "$release" in
  bookworm) version=12 net=ifupdown PACKAGES+=(ifupdown isc-dhcp-client) ;;
  trixie) version=13 net=networkd PACKAGES+=(systemd-resolved) ;;
esac
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"

# Disk layout (512-byte sectors): GPT, 1 MiB BIOS boot partition for GRUB's
# core.img, 64 MiB EFI system partition, then the root filesystem up to 1 MiB
# before the end. Root is last so growpart can extend it.
DISK_MIB=2048
BIOS_START=2048 BIOS_SECTORS=2048
ESP_START=4096 ESP_SECTORS=131072
ROOT_START=$((ESP_START + ESP_SECTORS))
ROOT_SECTORS=$((DISK_MIB * 2048 - ROOT_START - 2048))
GRUB_MODULES=(normal configfile search search_fs_uuid search_label part_gpt ext2 fat
  linux echo test serial terminal terminfo sleep ls cat minicmd reboot halt)

out="$repo/.cache/guest/debian-$release"
outputs=(disk.qcow2 vmlinuz initrd.img packages.txt SHA256SUMS manifest.json)

# --- host tools: name the Debian packages rather than failing halfway through.
declare -A tool_pkg=([mmdebstrap]=mmdebstrap [sfdisk]=fdisk [mke2fs]=e2fsprogs
  [mformat]=mtools [mmd]=mtools [mcopy]=mtools [grub-mkimage]=grub-common
  [qemu-img]=qemu-utils [flock]=util-linux [sha256sum]=coreutils)
missing=()
for t in "${!tool_pkg[@]}"; do command -v "$t" >/dev/null || missing+=("${tool_pkg[$t]}"); done
[[ -f /usr/lib/grub/i386-pc/boot.img ]] || missing+=(grub-pc-bin)
[[ -d /usr/lib/grub/x86_64-efi ]] || missing+=(grub-efi-amd64-bin)
((${#missing[@]} == 0)) ||
  die "missing host tools; install them with: apt-get install -y --no-install-recommends $(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')"
[[ $(id -u) -eq 0 ]] || die "mmdebstrap's root mode needs root (it runs the packages' maintainer scripts in a chroot)"

mkdir -p "$out"
exec 9>"$out/.lock"
flock 9
rm -rf "$out"/work.* # left behind by an interrupted build (we hold the lock)

# --- cache check: same script + release + package list + all outputs = done.
inputs_hash="$( {
  sha256sum "$here/build.sh"
  echo "$release ${PACKAGES[*]}"
} | sha256sum | cut -d' ' -f1)"
if ((!force)) && grep -q "\"inputsHash\": \"$inputs_hash\"" "$out/manifest.json" 2>/dev/null &&
  (cd "$out" && ls "${outputs[@]}" >/dev/null 2>&1); then
  say "$release image is cached (inputsHash ${inputs_hash:0:12}): ${out#"$repo/"}/disk.qcow2"
  exit 0
fi

work="$(mktemp -d "$out/work.XXXXXX")"
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"
uuid() { cat /proc/sys/kernel/random/uuid; }
root_fs_uuid="$(uuid)" root_part_uuid="$(uuid)" esp_part_uuid="$(uuid)"
bios_part_uuid="$(uuid)" disk_uuid="$(uuid)"

# fstab and the initramfs' FSTYPE go in before the kernel and initramfs-tools
# are installed (essential hook), so the initramfs gets fsck.ext4 for the root:
# its fsck hook cannot probe a root device that does not exist at build time.
# The ESP is mounted as on Debian's cloud images; nofail, and no fsck
# (dosfstools is not installed).
cat >"$work/fstab" <<EOF
# <file system>  <mount point>  <type>  <options>  <dump>  <pass>
UUID=$root_fs_uuid  /  ext4  rw,discard,errors=remount-ro  0  1
PARTUUID=$esp_part_uuid  /boot/efi  vfat  umask=0077,nofail  0  0
EOF

# --- root filesystem. Documentation, man pages and translations are left out
# (also for packages installed later: the dpkg excludes stay in the image).
say "mmdebstrap $release (${#PACKAGES[@]} packages + the apt variant; takes 1-3 minutes)"
hooks=()
# cloud-init writes /etc/systemd/network/10-cloud-init-*.network; networkd must
# run to apply it (Debian leaves it disabled). In a hook: /proc is mounted there.
[[ $net == networkd ]] &&
  hooks+=(--customize-hook='chroot "$1" systemctl enable --quiet systemd-networkd.service systemd-resolved.service')
mirrors=("deb $MIRROR $release main" "deb $MIRROR $release-updates main"
  "deb $SECURITY_MIRROR $release-security main")
if ! mmdebstrap --mode=root --variant=apt --format=directory \
  --include="$(IFS=,; echo "${PACKAGES[*]}")" \
  --aptopt='Acquire::Languages "none"' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  --dpkgopt='path-exclude=/usr/share/lintian/*' \
  --essential-hook="mkdir -p \"\$1/boot/efi\" && cp $(printf %q "$work/fstab") \"\$1/etc/fstab\"" \
  --essential-hook='mkdir -p "$1/etc/initramfs-tools/conf.d" && echo FSTYPE=ext4 >"$1/etc/initramfs-tools/conf.d/fstype"' \
  "${hooks[@]}" "$release" "$root" "${mirrors[@]}" >"$work/mmdebstrap.log" 2>&1; then
  tail -n 30 "$work/mmdebstrap.log" >&2
  cp "$work/mmdebstrap.log" "$out/mmdebstrap.log"
  if grep -qE "Failed to fetch .*/dists/$release/(In)?Release|$release.* does not have a Release file" "$work/mmdebstrap.log"; then
    echo "debian: the mirror ($MIRROR) does not serve Debian $release; skipping it" >&2
    exit 3
  fi
  grep -q NO_PUBKEY "$work/mmdebstrap.log" &&
    die "the host's keyring cannot verify Debian $release (NO_PUBKEY); a newer debian-archive-keyring is needed"
  die "mmdebstrap failed (log above, and in ${out#"$repo/"}/mmdebstrap.log)"
fi

kernel="$(cd "$root/boot" && ls vmlinuz-* 2>/dev/null | sort -V | tail -n 1)"
kver="${kernel#vmlinuz-}"
[[ -n $kver && -f $root/boot/initrd.img-$kver ]] || die "no kernel/initrd in $root/boot"
debian_version="$(cat "$root/etc/debian_version")"
say "configuring the image (kernel $kver, Debian $debian_version)"

# Kernel symlinks: the kernel packages keep /vmlinuz and /initrd.img (and
# .old) pointing at the newest kernels, so grub.cfg below never needs
# regenerating when the guest upgrades its kernel.
[[ -e $root/vmlinuz ]] || ln -s "boot/vmlinuz-$kver" "$root/vmlinuz"
[[ -e $root/initrd.img ]] || ln -s "boot/initrd.img-$kver" "$root/initrd.img"

# First-boot identity: no SSH host keys, an empty machine-id (systemd makes one
# and treats the boot as the first), no host's hostname or resolv.conf.
rm -f "$root"/etc/ssh/ssh_host_*
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
ln -s /etc/machine-id "$root/var/lib/dbus/machine-id"
echo debian >"$root/etc/hostname"
if [[ $net == networkd ]]; then
  ln -sfn ../run/systemd/resolve/stub-resolv.conf "$root/etc/resolv.conf"
else
  rm -f "$root/etc/resolv.conf" # dhclient writes it
fi
# A set system locale: without it cloud-init's locale module runs Debian's
# locale-gen (which ignores its argument) and update-locale fails on
# en_US.UTF-8. C.UTF-8 needs no generation; user-data can still ask for others.
echo LANG=C.UTF-8 >"$root/etc/default/locale"

if [[ $net == ifupdown ]]; then
  # ifupdown reads what cloud-init writes into interfaces.d.
  if ! grep -qs 'interfaces.d' "$root/etc/network/interfaces"; then
    printf '%s\n' 'source /etc/network/interfaces.d/*' '' 'auto lo' 'iface lo inet loopback' \
      >"$root/etc/network/interfaces"
  fi
  mkdir -p "$root/etc/network/interfaces.d"
fi

# Sorts after the package's 90_dpkg.cfg, so it wins. NoCloud first (a seed disk
# labelled cidata, as Hangar and most local tools make), ConfigDrive (OpenStack
# style seed), None (cloud-init still runs when ds-identify is unsure).
cat >"$root/etc/cloud/cloud.cfg.d/95_hangar-image.cfg" <<'EOF'
# Written by Hangar's image build (scripts/guest/debian/build.sh).
datasource_list: [ NoCloud, ConfigDrive, None ]
# Adds "127.0.1.1 <hostname>" so that sudo and others resolve the hostname.
manage_etc_hosts: localhost
EOF

# SSH host keys are cloud-init's job (cc_ssh). When cloud-init is disabled (no
# datasource found) this makes them instead, so sshd still starts.
cat >"$root/etc/systemd/system/ssh-host-keys.service" <<'EOF'
[Unit]
Description=Generate SSH host keys when cloud-init has not
# cloud-init-network.service is the name of cloud-init.service since 24.3 (trixie).
After=cloud-init.service cloud-init-network.service
Before=ssh.service
ConditionPathExistsGlob=!/etc/ssh/ssh_host_*_key

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A

[Install]
WantedBy=ssh.service
EOF
mkdir -p "$root/etc/systemd/system/ssh.service.wants"
ln -sf ../ssh-host-keys.service "$root/etc/systemd/system/ssh.service.wants/ssh-host-keys.service"

# GRUB's embedded early config (both firmwares) finds the root filesystem by
# UUID and reads this file from it.
cmdline="root=PARTUUID=$root_part_uuid ro console=tty0 console=ttyS0,115200"
mkdir -p "$root/boot/grub"
cat >"$root/boot/grub/grub.cfg" <<EOF
# Static menu: /vmlinuz and /initrd.img are kept current by the kernel packages.
# Written by Hangar's image build; GRUB itself is not installed in the image.
set default=0
set timeout=1
serial --unit=0 --speed=115200
terminal_input console serial
terminal_output console serial
search --no-floppy --fs-uuid --set=root $root_fs_uuid
menuentry 'Debian GNU/Linux $version ($release)' {
  echo 'Loading Linux ...'
  linux /vmlinuz $cmdline
  echo 'Loading initial ramdisk ...'
  initrd /initrd.img
}
if [ -f /vmlinuz.old ]; then
  menuentry 'Debian GNU/Linux $version ($release), previous kernel' {
    linux /vmlinuz.old $cmdline
    initrd /initrd.img.old
  }
fi
EOF

# Caches and logs of the build.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
  "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old "$root"/tmp/* "$root"/var/tmp/* \
  "$root"/root/.bash_history
find "$root/var/log" -type f -delete

dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Package} ${Version}\n' | sort >"$work/packages.txt"
cp "$root/boot/vmlinuz-$kver" "$work/vmlinuz"
cp "$root/boot/initrd.img-$kver" "$work/initrd.img"
chmod 644 "$work/vmlinuz" "$work/initrd.img"
say "root filesystem: $(du -sm "$root" | cut -f1) MiB in $(wc -l <"$work/packages.txt") packages"

# --- partition images
say "making the ext4 root filesystem (mke2fs -d)"
truncate -s $((ROOT_SECTORS * 512)) "$work/root.img"
mke2fs -q -F -t ext4 -L root -U "$root_fs_uuid" -d "$root" "$work/root.img" ||
  die "mke2fs -d failed"
rm -rf "$root"

say "making GRUB images (grub-mkimage) and the EFI system partition (mtools)"
cat >"$work/early.cfg" <<EOF
search --no-floppy --fs-uuid --set=root $root_fs_uuid
set prefix=(\$root)/boot/grub
configfile (\$root)/boot/grub/grub.cfg
EOF
grub-mkimage -O i386-pc -o "$work/core.img" -c "$work/early.cfg" -p /boot/grub \
  biosdisk "${GRUB_MODULES[@]}"
grub-mkimage -O x86_64-efi -o "$work/BOOTX64.EFI" -c "$work/early.cfg" -p /boot/grub \
  efi_gop efi_uga "${GRUB_MODULES[@]}"
core_size="$(stat -c %s "$work/core.img")"
((core_size <= BIOS_SECTORS * 512)) || die "core.img ($core_size bytes) does not fit the BIOS boot partition"

truncate -s $((ESP_SECTORS * 512)) "$work/esp.img"
mformat -i "$work/esp.img" -F -v ESP -T "$ESP_SECTORS" -h 64 -s 32 ::
mmd -i "$work/esp.img" ::/EFI ::/EFI/BOOT
mcopy -i "$work/esp.img" "$work/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI

# --- the disk
say "assembling the GPT disk (sfdisk, dd)"
disk="$work/disk.raw"
truncate -s "${DISK_MIB}M" "$disk"
sfdisk --quiet --no-reread --no-tell-kernel "$disk" <<EOF
label: gpt
label-id: $disk_uuid
first-lba: 2048
start=$BIOS_START, size=$BIOS_SECTORS, type=21686148-6449-6E6F-744E-656564454649, uuid=$bios_part_uuid, name="bios"
start=$ESP_START, size=$ESP_SECTORS, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=$esp_part_uuid, name="esp"
start=$ROOT_START, size=$ROOT_SECTORS, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=$root_part_uuid, name="root"
EOF
put() { dd of="$disk" bs=1M seek=$(($1 * 512)) oflag=seek_bytes conv=notrunc,sparse status=none; }
put "$ESP_START" <"$work/esp.img"
put "$ROOT_START" <"$work/root.img"
rm -f "$work/esp.img" "$work/root.img"

# BIOS boot without grub-bios-setup (it wants a block device): what it would do,
# done by hand. core.img goes at the start of the BIOS boot partition; its first
# sector (diskboot.img) ends with a blocklist {u64 start, u16 count, u16 seg} at
# offset 0x1f4 whose start (default 2) must be the sector after it; grub-mkimage
# already filled in the count. boot.img in the MBR reads the first sector of
# core.img from the u64 LBA at offset 0x5c, and its jump at 0x66 is replaced by
# two NOPs as grub-bios-setup does for hard disks (a workaround for BIOSes that
# pass a wrong boot drive). Only the MBR's first 440 bytes are written, so the
# protective MBR's partition table and signature made by sfdisk stay.
le64() { local v=$1 i s=''; for ((i = 0; i < 8; i++)); do s+="$(printf '\\x%02x' $(((v >> (8 * i)) & 255)))"; done; printf "$s"; }
le64 $((BIOS_START + 1)) | dd of="$work/core.img" bs=1 seek=$((0x1f4)) conv=notrunc status=none
put "$BIOS_START" <"$work/core.img"
cp /usr/lib/grub/i386-pc/boot.img "$work/boot.img"
le64 "$BIOS_START" | dd of="$work/boot.img" bs=1 seek=$((0x5c)) conv=notrunc status=none
printf '\x90\x90' | dd of="$work/boot.img" bs=1 seek=$((0x66)) conv=notrunc status=none
dd if="$work/boot.img" of="$disk" bs=440 count=1 conv=notrunc status=none

say "compressing to qcow2 (qemu-img convert -c)"
qemu-img convert -f raw -O qcow2 -c "$disk" "$work/disk.qcow2"
rm -f "$disk"

# --- outputs. mv, not cp: a running QEMU keeps its old inode. The manifest goes
# last: its inputsHash is what marks the build as complete.
cp "$work/mmdebstrap.log" "$out/mmdebstrap.log"
(cd "$work" && sha256sum disk.qcow2 vmlinuz initrd.img packages.txt >SHA256SUMS)
rm -f "$out/manifest.json"
mv "$work/disk.qcow2" "$work/vmlinuz" "$work/initrd.img" "$work/packages.txt" "$work/SHA256SUMS" "$out/"
cat >"$out/manifest.json.tmp" <<EOF
{
  "release": "$release", "version": "$version", "debianVersion": "$debian_version",
  "inputsHash": "$inputs_hash", "builtAt": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "image": "disk.qcow2", "virtualSizeMiB": $DISK_MIB, "firmware": ["bios", "uefi"],
  "kernelVersion": "$kver", "kernel": "vmlinuz", "initrd": "initrd.img",
  "directCmdline": "root=PARTUUID=$root_part_uuid ro console=ttyS0,115200",
  "diskUuid": "$disk_uuid", "rootPartUuid": "$root_part_uuid", "rootFsUuid": "$root_fs_uuid",
  "espPartUuid": "$esp_part_uuid", "defaultUser": "debian", "datasources": ["NoCloud", "ConfigDrive", "None"],
  "cloudInitFinalMarker": "finished at", "packages": "packages.txt"
}
EOF
mv "$out/manifest.json.tmp" "$out/manifest.json"
say "done: ${out#"$repo/"}/disk.qcow2 ($(du -m "$out/disk.qcow2" | cut -f1) MiB, ${DISK_MIB} MiB virtual), kernel $kver"
