#!/usr/bin/env bash
# Boots a built Debian image once under TCG and checks it behaves like a cloud
# image: boots from its own disk, cloud-init's final stage runs from a NoCloud
# seed, the hostname is set, the root filesystem grew, the guest agent answers,
# sshd takes the seed's key and ACPI power-off works.
#
#   bash scripts/guest/debian/verify.sh [bookworm|trixie] [bios|uefi]
#
# Boots an overlay (never the cached image), 1 GiB, 2 vCPUs; takes 1-3 minutes.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
release=bookworm firmware=bios
for arg in "$@"; do
  case "$arg" in
    bookworm | trixie) release="$arg" ;;
    bios | uefi) firmware="$arg" ;;
    *) echo "usage: $0 [bookworm|trixie] [bios|uefi]" >&2; exit 2 ;;
  esac
done
img="$repo/.cache/guest/debian-$release/disk.qcow2"
[[ -f $img ]] || { echo "verify: no image; run: bash scripts/guest/debian/build.sh $release" >&2; exit 1; }
for t in qemu-system-x86_64 qemu-img xorriso node ssh ssh-keygen; do
  command -v "$t" >/dev/null || { echo "verify: $t is missing" >&2; exit 1; }
done

start=$SECONDS
say() { printf 'verify: [%3ss] %s\n' "$((SECONDS - start))" "$*"; }
failures=0
check() { # description, then a command that must succeed
  local what="$1"; shift
  if "$@"; then say "ok: $what"; else say "FAILED: $what"; failures=$((failures + 1)); fi
}

run="$(mktemp -d /tmp/hangar-deb.XXXXXX)" # short: UNIX socket paths are limited
qemu_pid=''
cleanup() {
  [[ -n $qemu_pid ]] && kill "$qemu_pid" 2>/dev/null && wait "$qemu_pid" 2>/dev/null
  rm -rf "$run"
}
trap cleanup EXIT
logs="$repo/.cache/guest/debian-$release/verify-$firmware"
mkdir -p "$logs"
serial="$logs/serial.log"
rm -f "$serial" # QEMU appends to an existing file

# --- seed: a test key and a hostname, on a read-only virtio disk (the cloud
# kernel has no AHCI driver, so a SATA CD-ROM would be invisible).
ssh-keygen -q -t ed25519 -N '' -f "$run/key"
host="hangar-$release-$firmware"
mkdir "$run/seed"
cat >"$run/seed/meta-data" <<EOF
instance-id: iid-$host-$RANDOM
local-hostname: $host
EOF
cat >"$run/seed/user-data" <<EOF
#cloud-config
users:
  - name: tester
    sudo: ALL=(ALL) NOPASSWD:ALL
    shell: /bin/bash
    ssh_authorized_keys:
      - $(cat "$run/key.pub")
EOF
# A v2 network config matched by MAC (BIOS run); the UEFI run uses cloud-init's
# fallback (DHCP on the first NIC) instead, so both paths get exercised.
mac=52:54:00:12:34:56
if [[ $firmware == bios ]]; then
  cat >"$run/seed/network-config" <<EOF
version: 2
ethernets:
  nic0:
    match:
      macaddress: "$mac"
    dhcp4: true
EOF
fi
xorriso -as mkisofs -quiet -V cidata -J -r -o "$run/seed.iso" "$run/seed" 2>/dev/null

qemu-img create -q -f qcow2 -b "$img" -F qcow2 "$run/overlay.qcow2" 4G
fw=()
if [[ $firmware == uefi ]]; then
  cp /usr/share/OVMF/OVMF_VARS_4M.fd "$run/vars.fd"
  fw=(-drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd
    -drive if=pflash,format=raw,unit=1,file="$run/vars.fd")
fi
port=$((20000 + RANDOM % 20000))
say "booting $release ($firmware) from an overlay of ${img#"$repo/"}; serial log: ${serial#"$repo/"}"
qemu-system-x86_64 -accel tcg -machine q35 -m 1024 -smp 2 "${fw[@]}" \
  -drive if=virtio,format=qcow2,file="$run/overlay.qcow2" \
  -drive if=virtio,format=raw,readonly=on,file="$run/seed.iso" \
  -netdev user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$port-:22 \
  -device virtio-net-pci,netdev=n0,mac=$mac \
  -chardev socket,id=qga0,path="$run/qga.sock",server=on,wait=off \
  -device virtio-serial-pci -device virtserialport,chardev=qga0,name=org.qemu.guest_agent.0 \
  -qmp unix:"$run/qmp.sock",server=on,wait=off \
  -serial file:"$serial" -display none -no-reboot &
qemu_pid=$!

wait_for() { # seconds, pattern in the serial log
  local deadline=$((SECONDS + $1))
  until grep -qaE "$2" "$serial" 2>/dev/null; do
    ((SECONDS < deadline)) || return 1
    kill -0 "$qemu_pid" 2>/dev/null || return 1
    sleep 1
  done
}
check "kernel booted from the disk ($firmware firmware, GRUB)" wait_for 120 'Linux version [0-9]'
say "kernel up"
check "cloud-init final stage ran" wait_for 400 'Cloud-init v\. [0-9.]+.* finished at'
say "$(grep -aoE 'Cloud-init v\. [0-9.]+.* finished at .*' "$serial" | tr -d '\r' | head -n 1)"

# One connection to the agent: guest-sync-delimited (its answer follows a 0xFF
# byte that resets the agent's parser), then guest-info; read every answer in
# full, or the agent blocks writing to a port nobody reads.
agent_ok() {
  node - "$run/qga.sock" <<'JS'
const net = require('node:net');
const [sock] = process.argv.slice(2);
const deadline = Date.now() + 90_000;
function attempt() {
  const c = net.connect(sock);
  let buf = Buffer.alloc(0), step = 0;
  const timer = setTimeout(() => c.destroy(), 10_000);
  c.on('connect', () => c.write(Buffer.concat([Buffer.from([0xff]), Buffer.from('{"execute":"guest-sync-delimited","arguments":{"id":4711}}\n')])));
  c.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      const ff = buf.indexOf(0xff); if (ff >= 0) buf = buf.subarray(ff + 1);
      const nl = buf.indexOf(10); if (nl < 0) return;
      const line = buf.subarray(0, nl).toString(); buf = buf.subarray(nl + 1);
      if (!line.trim()) continue;
      let msg; try { msg = JSON.parse(line); } catch { continue; }
      if (step === 0 && msg.return === 4711) { step = 1; c.write('{"execute":"guest-info"}\n'); }
      else if (step === 1 && msg.return?.version) {
        clearTimeout(timer);
        console.log(`verify: guest-info: qemu-ga ${msg.return.version}, ${msg.return.supported_commands.length} commands`);
        c.end(); process.exit(0);
      }
    }
  });
  c.on('error', () => {});
  c.on('close', () => { if (Date.now() < deadline) setTimeout(attempt, 2000); else process.exit(1); });
}
attempt();
JS
}
check "qemu-guest-agent answers guest-sync-delimited and guest-info" agent_ok

ssh_run() {
  ssh -i "$run/key" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
    -o ConnectTimeout=10 -o BatchMode=yes -p "$port" tester@127.0.0.1 "$@"
}
ssh_ok() {
  local i
  for i in $(seq 1 20); do
    ssh_run uname -a >"$logs/uname.txt" 2>&1 && { say "ssh: $(cat "$logs/uname.txt")"; return 0; }
    sleep 3
  done
  cat "$logs/uname.txt" >&2
  return 1
}
check "sshd accepts the seed's key" ssh_ok
ssh_run 'set -x; hostname; cloud-init status --long; findmnt -no SOURCE,SIZE /; lsblk;
  systemctl is-system-running; systemctl --failed --no-legend; ls /etc/ssh/ssh_host_*;
  cat /etc/machine-id; cat /etc/fstab; findmnt /boot/efi; ip -br addr; cat /etc/network/interfaces.d/* /etc/systemd/network/*.network 2>/dev/null; grep -v "^#" /etc/resolv.conf; systemctl is-active systemd-logind dbus qemu-guest-agent ssh;
  systemd-analyze; systemd-analyze blame | head -n 15;
  sudo grep -iE "warn|error|traceback" /var/log/cloud-init.log | head -n 20; df -h /; id' >"$logs/guest.txt" 2>&1 || true
check "hostname is $host" grep -qx "$host" "$logs/guest.txt"
root_kib() { ssh_run "df -k --output=size / | tail -n 1" | tr -d ' '; }
size_kib="$(root_kib || echo 0)"
say "root filesystem size: $((size_kib / 1024)) MiB (image 2 GiB, overlay 4 GiB)"
check "root filesystem grew to the 4 GiB disk" test "$size_kib" -gt $((3 * 1024 * 1024))
check "cloud-init status is done" grep -q 'status: done' "$logs/guest.txt"
if [[ $firmware == uefi ]]; then
  check "the guest runs on UEFI firmware" ssh_run test -d /sys/firmware/efi
else
  check "the guest runs on BIOS firmware" ssh_run test ! -d /sys/firmware/efi
fi
check "no failed systemd units" ssh_run '! systemctl --failed --no-legend | grep -q .'
check "systemd-logind is active" ssh_run systemctl is-active --quiet systemd-logind

qmp_powerdown() {
  node - "$run/qmp.sock" <<'JS' || return 1
const net = require('node:net');
const c = net.connect(process.argv[2]);
let buf = '';
c.on('data', (d) => {
  buf += d;
  let nl;
  while ((nl = buf.indexOf('\n')) >= 0) {
    const msg = JSON.parse(buf.slice(0, nl)); buf = buf.slice(nl + 1);
    if (msg.QMP) c.write('{"execute":"qmp_capabilities","id":1}\n');
    else if (msg.id === 1) c.write('{"execute":"system_powerdown","id":2}\n');
    else if (msg.id === 2) { c.end(); process.exit(msg.return ? 0 : 1); }
  }
});
setTimeout(() => process.exit(1), 10_000);
JS
  local t0=$SECONDS deadline=$((SECONDS + 120))
  while kill -0 "$qemu_pid" 2>/dev/null && [[ $(awk '{print $3}' "/proc/$qemu_pid/stat" 2>/dev/null) != Z ]]; do
    ((SECONDS < deadline)) || return 1
    sleep 1
  done
  wait "$qemu_pid" 2>/dev/null || true
  qemu_pid=''
  say "QEMU exited $((SECONDS - t0)) s after system_powerdown"
}
check "ACPI system_powerdown over QMP powers the guest off" qmp_powerdown
say "guest details: ${logs#"$repo/"}/guest.txt"
if ((failures)); then say "$failures check(s) failed"; exit 1; fi
say "all checks passed"
