#!/usr/bin/env bash
# Builds Hangar's tiny test guest (Debian cloud kernel + busybox initramfs) into
# .cache/guest/: hangar-test.iso (BIOS+UEFI), vmlinuz + initrd.img (direct boot)
# and manifest.json. Packages are fetched with `apt-get download` and unpacked
# with `dpkg -x`, never installed, so the host stays untouched.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# HANGAR_GUEST_OUT: another folder (the app's demo keeps its copy in the user's cache).
out="${HANGAR_GUEST_OUT:-$repo/.cache/guest}"
# HANGAR_GUEST_KERNEL=generic: Debian's generic kernel instead of the cloud one, for what only it
# has (9p, which the shared-folder test mounts); bigger, so the everyday guest stays on cloud.
flavour="${HANGAR_GUEST_KERNEL:-cloud}"
case "$flavour" in
  cloud) kmeta=linux-image-cloud-amd64 ;;
  generic) kmeta=linux-image-amd64 ;;
  *) echo "guest: error: HANGAR_GUEST_KERNEL must be cloud or generic, not $flavour" >&2; exit 1 ;;
esac
say() { echo "guest: $*"; }
die() { echo "guest: error: $*" >&2; exit 1; }

# --- host tools: name the Debian packages rather than failing halfway through.
declare -A tool_pkg=([apt-get]=apt [apt-cache]=apt [dpkg]=dpkg [cpio]=cpio [gzip]=gzip
  [xz]=xz-utils [zstd]=zstd [grub-mkrescue]=grub-common [xorriso]=xorriso [mformat]=mtools
  [flock]=util-linux [sha256sum]=coreutils)
missing=()
for t in "${!tool_pkg[@]}"; do command -v "$t" >/dev/null || missing+=("${tool_pkg[$t]}"); done
# grub-mkrescue silently builds a BIOS-only or UEFI-only image without these.
[[ -d /usr/lib/grub/i386-pc ]] || missing+=(grub-pc-bin)
[[ -d /usr/lib/grub/x86_64-efi ]] || missing+=(grub-efi-amd64-bin)
((${#missing[@]} == 0)) ||
  die "missing host tools; install them with: apt-get install -y $(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')"

mkdir -p "$out/debs"
# Parallel test runs share the cache; let the first one build, the rest reuse.
exec 9>"$out/.lock"
flock 9
rm -rf "$out"/work.* # left behind by an interrupted build (we hold the lock)

# --- resolve package versions from the local apt lists (no network). One
# apt-cache call: each one costs ~0.5 s here because apt's pkgcache is disabled.
resolve() {
  local info
  info="$(apt-cache show --no-all-versions "$kmeta" busybox-static 2>/dev/null)" || return 1
  # The metapackage pins its versioned image: "linux-image-6.1.0-56-cloud-amd64 (= 6.1.192-2)".
  read -r kpkg kpkg_ver < <(sed -n 's/^Depends:.*\(linux-image-[0-9][^ ,]*\) (= \([^)]*\)).*/\1 \2/p' <<<"$info")
  bb_ver="$(awk '/^Package: busybox-static$/ {p=1} p && /^Version:/ {print $2; exit}' <<<"$info")"
  [[ -n ${kpkg:-} && -n ${kpkg_ver:-} && -n $bb_ver ]]
}
if ! resolve; then
  say "no usable apt lists; running apt-get update"
  apt-get update -qq || die "apt-get update failed"
  resolve || die "cannot resolve $kmeta / busybox-static from apt"
fi
kver="${kpkg#linux-image-}" # uname -r of the guest, e.g. 6.1.0-56-cloud-amd64
deb_name() { echo "${1}_${2//:/%3a}_amd64.deb"; } # apt-get download's naming
kdeb="$(deb_name "$kpkg" "$kpkg_ver")"
bbdeb="$(deb_name busybox-static "$bb_ver")"

# --- cache check: same scripts + same package versions + all outputs = done.
inputs_hash="$( {
  (cd "$here" && find . -maxdepth 1 -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
  echo "$kdeb $bbdeb"
} | sha256sum | cut -d' ' -f1)"
outputs=(hangar-test.iso vmlinuz initrd.img manifest.json)
if grep -q "\"inputsHash\": \"$inputs_hash\"" "$out/manifest.json" 2>/dev/null &&
  (cd "$out" && ls "${outputs[@]}" >/dev/null 2>&1); then
  say "up to date, using cached guest in .cache/guest (inputsHash ${inputs_hash:0:12})"
  exit 0
fi

# --- download (kept in .cache/guest/debs so rebuilds after script edits are offline).
fetch() { # $1 = package=version, $2 = expected file name
  [[ -s "$out/debs/$2" ]] && return 0
  say "downloading $1"
  # apt warns when _apt cannot write to the target dir; the download still works.
  (cd "$out/debs" && apt-get download -q "$1" 2>&1 | { grep -v '^W: Download is performed unsandboxed' || true; }) ||
    { say "download failed; refreshing apt lists and retrying"; apt-get update -qq &&
      (cd "$out/debs" && apt-get download -q "$1"); } || die "cannot download $1"
  [[ -s "$out/debs/$2" ]] || die "expected $out/debs/$2 after download"
}
fetch "$kpkg=$kpkg_ver" "$kdeb"
fetch "busybox-static=$bb_ver" "$bbdeb"
# Drop debs of superseded versions so the cache does not grow forever.
find "$out/debs" -name '*.deb' ! -name "$kdeb" ! -name "$bbdeb" -delete

work="$(mktemp -d "$out/work.XXXXXX")"
trap 'rm -rf "$work"' EXIT
say "unpacking $kdeb and $bbdeb"
dpkg -x "$out/debs/$kdeb" "$work/kernel"
dpkg -x "$out/debs/$bbdeb" "$work/busybox"
vmlinuz="$work/kernel/boot/vmlinuz-$kver"
moddir="$work/kernel/lib/modules/$kver"
[[ -f $vmlinuz && -d $moddir ]] || die "unexpected layout in $kdeb"

say "building initramfs"
rootfs="$work/rootfs"
mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,lib/modules,dev,proc,sys,tmp,mnt/disk,root}
cp "$work/busybox/bin/busybox" "$rootfs/bin/busybox"
install -m 755 "$here/init" "$rootfs/init"
install -m 755 "$here/rc" "$rootfs/etc/rc"
install -m 644 "$here/inittab" "$rootfs/etc/inittab"

# Modules: the package ships no modules.dep (depmod runs at install time), so
# read each module's own "depends=" from its .modinfo strings and order them
# depth-first. Debian 12 ships plain .ko; newer kernels ship .ko.xz/.ko.zst,
# which are decompressed here because busybox insmod cannot read them.
declare -A kofile=() seen=()
while IFS= read -r f; do
  n="${f##*/}"; n="${n%%.ko*}"; kofile[${n//-/_}]="$f"
done < <(find "$moddir/kernel" -name '*.ko*')
builtin_mods="$(sed 's#.*/##; s#\.ko.*##; s#-#_#g' "$moddir/modules.builtin")"
load_order=()
add_module() {
  local m="${1//-/_}" dep
  local f="${kofile[$m]:-}" ko="$rootfs/lib/modules/$m.ko"
  [[ -n ${seen[$m]:-} ]] && return 0
  seen[$m]=1
  if [[ -z $f ]]; then # built in: nothing to load
    grep -qx "$m" <<<"$builtin_mods" && return 0 || die "kernel module $m not found in $kpkg"
  fi
  case "$f" in
    *.ko.xz) xz -dc "$f" >"$ko" ;;
    *.ko.zst) zstd -qdc "$f" >"$ko" ;;
    *.ko.gz) gzip -dc "$f" >"$ko" ;;
    *) cp "$f" "$ko" ;;
  esac
  for dep in $(tr '\0' '\n' <"$ko" | awk -F= '$1 == "depends" && !d {gsub(",", " ", $2); print $2; d = 1}'); do
    add_module "$dep"
  done
  load_order+=("$m")
}
# virtio_ring must precede virtio (and so on): the depends= walk gets that right.
# ext4 (which also mounts ext2) is built into the cloud kernel today; listing it
# keeps the guest working if a later kernel makes it a module. cifs mounts a VM's shared folder
# (QEMU's user-mode SMB share); SMB 3 asks for the AEAD and CMAC ciphers by name, which a full
# system loads on demand and this one must load up front.
extra=()
[[ $flavour == generic ]] && extra=(9p 9pnet_virtio) # the 9p share; the cloud kernel has neither
for m in virtio_pci virtio_blk virtio_net virtio_scsi sd_mod ext4 button evdev \
  cifs ccm gcm ghash_generic ctr cmac sha512_generic ecb "${extra[@]}"; do
  add_module "$m"
done
printf '%s\n' "${load_order[@]}" >"$rootfs/etc/modules"
say "modules: ${load_order[*]}"

(cd "$rootfs" && find . -print0 | LC_ALL=C sort -z |
  cpio --null -o -H newc -R 0:0 --quiet | gzip -9 -n) >"$work/initrd.img"

say "building ISO with grub-mkrescue"
iso="$work/iso"
mkdir -p "$iso/boot/grub"
cp "$vmlinuz" "$iso/boot/vmlinuz"
cp "$work/initrd.img" "$iso/boot/initrd.img"
cp "$here/grub.cfg" "$iso/boot/grub/grub.cfg"
# No locales/themes/fonts: the menu is never shown (timeout 0).
grub-mkrescue --locales= --themes= --fonts= -o "$work/hangar-test.iso" "$iso" \
  >"$work/mkrescue.log" 2>&1 || { cat "$work/mkrescue.log" >&2; die "grub-mkrescue failed"; }

say "writing outputs"
# mv, not cp: a running QEMU keeps reading the old ISO inode undisturbed. The
# manifest goes last: its inputsHash is what marks the build as complete.
rm -f "$out/manifest.json"
mv "$vmlinuz" "$out/vmlinuz"
mv "$work/initrd.img" "$work/hangar-test.iso" "$out/"
cat >"$out/manifest.json.tmp" <<EOF
{
  "readyMarker": "HANGAR-GUEST-READY", "prompt": "hangar-guest# ",
  "kernelVersion": "$kver", "inputsHash": "$inputs_hash",
  "kernelPackage": "$kpkg=$kpkg_ver", "busyboxPackage": "busybox-static=$bb_ver",
  "iso": "hangar-test.iso", "kernel": "vmlinuz", "initrd": "initrd.img",
  "isoCmdline": "console=ttyS0 console=tty0", "directCmdline": "console=ttyS0",
  "diskMountPoint": "/mnt/disk", "httpPort": 80, "httpBody": "hangar-guest-http-ok",
  "modules": [$(printf '"%s",' "${load_order[@]}" | sed 's/,$//')]
}
EOF
mv "$out/manifest.json.tmp" "$out/manifest.json"
say "done: $(du -h "$out/hangar-test.iso" | cut -f1) ISO, $(du -h "$out/initrd.img" | cut -f1) initrd, kernel $kver"
