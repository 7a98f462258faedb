#!/usr/bin/env bash
# Sets up Hangar on Debian 12: the Debian packages the app and its tests need, the npm packages,
# and a build. Idempotent; when everything is present it only checks and rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

# What each package is for: QEMU and its tools run the VMs; ovmf is UEFI firmware; swtpm is the
# TPM for Windows 11; chromium and xvfb run the UI tests and the browser window; the rest build
# the project's tiny test guest from Debian packages; the emoji font lets the UI tests show
# unicode VM names as people see them. mmdebstrap, fdisk and e2fsprogs build the real Debian
# cloud image the tests boot (scripts/guest/debian); xorriso also writes cloud-init seeds;
# openssh-client (ssh, ssh-keygen) and openssl (password hashes) serve cloud-image VMs.
# osinfo-db is the OS catalog (names, defaults, install media) the image library reads; gnupg
# (gpg, gpgv) checks vendors' signatures on checksum lists. libvirt-clients (virsh,
# virt-xml-validate) with libxml2-utils hand VMs to libvirt hosts; libvirt-daemon-system is the
# local libvirtd the tests start by hand to run an exported VM. samba provides the smbd that QEMU
# runs, as the user, for a VM's shared folder. openssh-server is for the tests only: they start a
# throwaway sshd on 127.0.0.1 to reach that libvirtd over qemu+ssh://.
PACKAGES=(qemu-system-x86 qemu-utils ovmf swtpm swtpm-tools chromium xvfb samba openssh-server
  grub-pc-bin grub-efi-amd64-bin grub-common xorriso mtools cpio xz-utils zstd
  fonts-noto-color-emoji
  mmdebstrap fdisk e2fsprogs openssh-client openssl osinfo-db gnupg gpgv
  libvirt-clients libxml2-utils libvirt-daemon-system)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # Installing samba also enables the system's own file server, listening on the network.
    # Hangar needs only the smbd program, so a server this setup brought in is switched off.
    if [[ " ${missing[*]} " == *" samba "* ]] && [[ -d /run/systemd/system ]]; then
      systemctl disable --now smbd nmbd >/dev/null 2>&1 || true
      echo "setup: samba's system service (smbd, nmbd) was turned off; Hangar runs smbd per VM itself"
    fi
    # The same for the SSH server the tests start on their own port: none listens because of setup.
    if [[ " ${missing[*]} " == *" openssh-server "* ]]; then
      if [[ -d /run/systemd/system ]]; then
        systemctl disable --now ssh >/dev/null 2>&1 || true
      elif [[ -x /etc/init.d/ssh ]]; then
        /etc/init.d/ssh stop >/dev/null 2>&1 || true
      fi
      echo "setup: the system's SSH server is off; the tests run their own on 127.0.0.1"
    fi
  else
    echo "setup: these Debian packages are missing: ${missing[*]}" >&2
    echo "setup: install them with:  sudo apt-get install --no-install-recommends ${missing[*]}" >&2
    echo "setup: then run this again (npm run setup)." >&2
    exit 1
  fi
else
  echo "setup: Debian packages present"
fi

node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<19)) { console.error(`setup: Node ${process.versions.node} is too old; Hangar needs 20.19 or newer.`); process.exit(1) }'

# The Electron binary comes from GitHub, which may be unreachable; the app runs in Chromium
# without it, so never let its download fail the install.
export ELECTRON_SKIP_BINARY_DOWNLOAD=1
stamp=node_modules/.hangar-lock-hash
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
  echo "setup: npm packages up to date"
else
  echo "setup: installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" >"$stamp"
fi

# npm does not link a package's own bin; this makes `npx hangar` work in the checkout.
ln -sf ../../bin/hangar.js node_modules/.bin/hangar

echo "setup: building"
npx electron-vite build --logLevel warn
echo "setup: done"
