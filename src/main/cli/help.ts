export const USAGE = `Usage: hangar <command> [arguments] [options]

VMs
  list [--tag TAG]                       All VMs with their state (--tag: those with the tag)
  info VM                                One VM's configuration and state
  create --name NAME [options]           Create a VM (see Create options)
  demo                                   Build a tiny Linux guest once (Debian packages) and start a VM of it
  edit VM [--name --cpus --memory --firmware --tpm|--no-tpm --forward ...]
          [--tag TAG ... | --no-tags]    Tags replace the VM's list (repeat --tag for several)
          [--share DIR | --no-share]     A host folder the guest mounts over SMB (hangar info shows how)
          [--share-readonly | --share-writable]  Whether the guest may change it (writable by default)
          [--share-9p | --no-share-9p]   Also over virtio-9p, for guest kernels with 9p (off by default)
  clone VM NEWNAME [--linked]            Full copy with a new id and MACs; --linked: an overlay on a template
  make-independent VM                    Copy a linked clone's template data into it
  template set|unset VM                  A template is never started; linked clones are made from it
  delete VM [--yes]                      Remove the VM and the files it owns (shared files stay)

Running
  start VM [--paused] [--disposable]     Start (detached); --disposable throws every write away at shutdown
           [--reseed]                    A cloud-image VM: a new instance-id, so cloud-init runs again
  stop VM [--force] [--timeout SEC] [--force-after SEC]
                                         Ask the guest (ACPI button, guest agent) and wait (60 s);
                                         still running then: TIMEOUT, the VM keeps running.
                                         --force pulls the plug; --force-after pulls it when the wait ends
  pause VM | resume VM | reset VM
  wait VM --serial REGEX [--timeout SEC] Wait for output on the serial console (since the latest start)
  console VM                             Attach this terminal to the serial console (Ctrl-] leaves)
  screenshot VM FILE.png                 Save the screen
  send-keys VM KEYS...                   Press key combinations, e.g. ctrl-alt-delete
  monitor VM COMMAND...                  QEMU monitor commands that act on the guest (info, x, sendkey, ...)
  log VM [--lines N]                     The end of qemu.log
  history VM [--lines N]                 What happened to the VM: state changes and operations, with times
  top [--iterations N] [--json]          Running VMs' CPU, memory, disk and network, every second

Labs
  lab validate FILE [--json]             Check a hangar.lab.yaml (errors as FILE:LINE:COL) and show its
                                         VMs, addresses and MACs; creates nothing
  lab plan FILE                          What up would create, change or keep
  lab up FILE [--wait] [--only VM]... [--parallel N] [--json]
                                         Create what is missing, start in dependency order, wait until
                                         ready, provision once, take the baseline; resumes a saved lab
  lab list | lab status LAB              VMs, states, DNS names, addresses, forwards, the switch
  lab down LAB [--shutdown]              Save every VM's RAM (the lab paused together) and power off;
                                         --shutdown shuts the guests down instead
  lab wait LAB [--timeout S]             Until every VM runs and passes its ready checks
  lab reset LAB [VM]                     Back to the lab baseline (RAM included), no reboot
  lab baseline LAB                       Take the lab baseline now (the lab paused together)
  lab destroy LAB [--yes]                Delete the VMs the lab made (only those) and its switch;
                                         a VM it borrowed (vm: NAME) is given back as it was
  lab capture LAB NETWORK -w FILE.pcap [--duration S]
                                         Write the network's traffic until Ctrl-C (tcpdump -r reads it)
  lab export LAB VM... [-w FILE]         A lab file from these VMs on one network (templates and
                                         their clones as template:, others as vm:)
  lab exec LAB VM -- CMD...              A command in a lab VM through its guest agent
  lab ssh LAB VM [-- CMD...]             ssh into a lab VM (through its forward to port 22)
  lab run FILE [--disposable] [--logs DIR] -- CMD...
                                         For CI: up, run CMD here with HANGAR_LAB_<VM>_IP and
                                         HANGAR_LAB_<VM>_PORT_<guest port> set, keep the VMs' logs,
                                         destroy the lab (--disposable); exits with CMD's code

Images (the library in $HANGAR_HOME/images, content-addressed, read-only)
  image list                             Images, their OS, size and the VMs that use them
  image add FILE [--name N] [--format raw]
                                         qcow2, raw and ISOs as they are; vmdk, vdi, vhdx and vpc (VHD)
                                         converted to qcow2 and compared; --format raw: a hybrid ISO as a disk
  image import FILE.ova [--name N] [--dry-run]
                                         An OVA: its disk into the library and a VM with the OVF's
                                         settings; --dry-run shows what it would make and not honour
  image catalog                          What image pull can download (add your own: $HANGAR_HOME/catalog.json)
  image pull NAME                        Download, resumable, verified against the published checksums
  image rm IMAGE                         Refused while a VM uses it (the error names them)
  image verify [IMAGE]                   Re-hash; exit 1 when a file changed
  os search WORDS | os show SHORT-ID     osinfo-db: OSes, recommended settings, virtio, firmware, dates

Backups (a repository folder: $HANGAR_HOME/backups, or --repository DIR on any of these)
  backup create VM [--full]              Live (running: filesystems frozen through the agent) or offline;
                                         incremental on the VM's chain unless --full or the chain is broken
  backup list [VM]                       Points, kind, size, consistency; a deleted VM by its id
  backup verify BACKUP [--full]          Hashes of the point and its chain (--full: qemu-img check too);
                                         exit 1 and the damaged files named when it is not intact
  backup verify BACKUP --drill           Boot it: restored into a throwaway VM with no network, started,
         [--for CHECK] [--timeout S]     watched until CHECK (default: agent; serial:TEXT, port:N, ...),
                                         the screen kept in $HANGAR_HOME/drills, the VM deleted; exit 1
                                         when it does not come up
  backup restore BACKUP --name NAME      A new VM from that point in time; --instant: it runs at once on
         [--instant]                     the backup while its data is copied in
  backup restore BACKUP --in-place       Into the VM it came from (stopped), its state kept as a snapshot
  backup export BACKUP|VM FILE           A point and its chain as one tar; import FILE --name NAME
  backup prune VM [--keep-last N]        Keep the newest N, the newest of each of the last N days / ISO
         [--keep-daily N] [--keep-weekly N] weeks (UTC); remove the rest, merging a removed point into
         [--dry-run]                     the kept one built on it, so no chain breaks
  --passphrase-file FILE | --key-file FILE   on any of these: create encrypts (LUKS qcow2, the small files
                                         sealed), the others open encrypted backups; never an argument

libvirt (see docs/libvirt.md for what crosses over)
  export VM --libvirt [FILE]             Domain XML from the VM (stdout without FILE); what it cannot carry
         [--domain-type kvm|qemu]        is listed. --network NAME: user-mode NICs on a libvirt network
         [--network NAME] [--nvram FILE] (default: passt with the forwards); --nvram: the UEFI variables, raw
  import --libvirt FILE.xml              A new VM from a domain XML (disks used in place unless --copy-disk)
  import --from URI --domain NAME        ... or from a libvirt host (virsh dumpxml --inactive)
         [--copy-disk] [--name NAME]
  host add NAME URI                      Name a libvirt host (qemu:///system, qemu+ssh://user@host/system);
                                         the connection is tried first. host list | host remove NAME
  publish VM --host NAME [--pool POOL]   The stopped VM's disks flattened and uploaded to POOL (default:
         [--name DOMAIN] [--no-start]    default), the domain defined and started there
         [--domain-type kvm|qemu]
  list --host NAME                       The host's domains and their state
  start|stop [--force] --host NAME DOMAIN, ip --host NAME DOMAIN (from the guest agent),
  snapshot create|list|revert --host NAME DOMAIN [SNAP]

Snapshots
  snapshot create VM NAME [--description TEXT] [--disk-only]
                                         With RAM while running (unless --disk-only), disks only while stopped
  snapshot list VM | snapshot revert VM SNAP | snapshot delete VM SNAP
  snapshot rename VM SNAP NEWNAME | snapshot describe VM SNAP TEXT

Rollback
  baseline set VM                        Freeze the current disks as a read-only base (VM stopped)
  reset-to-baseline VM                   Throw away everything since the baseline, in constant time
  baseline clear VM                      Keep the current state and drop the baseline

Disks and media
  disk create PATH SIZE [--format qcow2|raw] [--preallocation off|metadata|falloc|full]
  disk info PATH | disk check PATH | disk resize PATH SIZE [--shrink]   (files outside Hangar)
  disk resize VM DISK SIZE [--shrink]    A VM's disk; grows live while running
  disk convert VM DISK qcow2|raw         Convert a stopped VM's own disk
  disk add VM --size 10G [--format qcow2|raw] [--bus virtio|sata|ide|scsi]   (VM stopped)
  disk add VM --disk PATH [--copy-disk]  Attach an existing image in place (or copy it in)
             [--backing-chain FILE]...   Trust the files the image is built on, nearest first
             [--block-device]            PATH is a host block device the VM may write
  disk remove VM DISK [--delete-file]    Detach; --delete-file also deletes it if the VM owns it
  media insert VM ISO [--drive cd0] | media eject VM [--drive cd0]

Host
  probe [--fresh]                        QEMU, accelerator (and why), CPU models, firmware
  serve [--port N]                       Run the engine and the browser UI server in the foreground

Create options
  --os linux|windows10|windows11|bsd|other   Defaults for the OS family (default linux)
  --os-variant SHORT-ID                  Defaults for one OS from osinfo-db (as virt-install's)
  --image IMAGE [--cloud-init]           A linked clone of a library image (an ISO image goes in the CD
                                         drive); catalog cloud images always get a cloud-init seed
  --cpus N  --memory 2G  --firmware bios|uefi|uefi-secure  --tpm  --description TEXT
  --iso PATH                             Install media (never copied, never deleted)
  --disk-size 20G [--disk-format qcow2|raw] [--preallocation MODE]   A new disk (default 20G qcow2)
  --disk PATH [--copy-disk]              Use an existing image in place (or copy it in)
  --backing-chain FILE ...               Trust the files that image is built on (each, nearest first)
  --no-disk  --no-network  --forward [tcp|udp:]HOST:GUEST (repeatable)
  --kernel PATH [--initrd PATH] [--append TEXT]   Direct kernel boot

Every command takes --json (one JSON document on stdout). VM is a name or an id; a name that
starts with a dash goes after --. Exit codes: 0 ok, 1 failed, 2 invalid input, 3 not found,
4 conflict or busy, 5 QEMU missing, 6 timeout.`;
