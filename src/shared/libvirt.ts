// libvirt hand-over (issue 16) as the API sees it: export a VM as domain XML, import a domain.
import { z } from 'zod';
import { AbsolutePath, CONTROL_CHARS, VmName } from './vm';
import { HostFile } from './requests';

/**
 * The URI parameters Hangar passes on. Others are refused because they run or read something
 * the user did not mean: command= and proxy= pick the program libvirt runs to connect, netcat=
 * a command on the far side, socket= and pkipath= local files.
 */
const URI_PARAM =
  '(keyfile|known_hosts|known_hosts_verify|no_verify|no_tty|sshauth|mode)=[A-Za-z0-9._~%/,+-]*';

/** A libvirt connection URI, as virsh -c takes it (qemu:///system, qemu+ssh://user@host/system). */
export const LibvirtUri = z
  .string()
  .max(1000)
  .regex(
    new RegExp(
      `^qemu(\\+(ssh|libssh|libssh2|unix|tcp|tls))?://[A-Za-z0-9._~@:[\\]-]*/(system|session)(\\?${URI_PARAM}(&${URI_PARAM})*)?$`,
    ),
    'Not a libvirt URI (like qemu:///system or qemu+ssh://user@host/system; the parameters allowed are ' +
      'keyfile, known_hosts, known_hosts_verify, no_verify, no_tty, sshauth and mode).',
  )
  // ssh gets the user and host as arguments: neither may look like an option.
  .refine(
    (u) => !/:\/\/(\[?-|[^@/]*@\[?-)/.test(u),
    'A libvirt URI whose user or host starts with "-" is refused.',
  );

/** A libvirt network by name (libvirt's own limits: no slash, no control characters). */
const LibvirtNetwork = z
  .string()
  .min(1)
  .max(200)
  .refine((n) => !/[/\s]/.test(n) && !CONTROL_CHARS.test(n), 'Not a libvirt network name.');

export const ExportLibvirtRequest = z.object({
  vm: z.string().min(1).max(200),
  /** Default: kvm when this host uses KVM, qemu (TCG) otherwise. */
  domainType: z.enum(['kvm', 'qemu']).optional(),
  /** User-mode NICs as passt (with the port forwards, the default) or on a libvirt network. */
  network: LibvirtNetwork.nullable().default(null),
  /** The domain's name; by default the VM's. */
  name: z.string().min(1).max(200).optional(),
  /** Write the UEFI variables here (raw) and point <nvram> at it; the VM must be stopped. */
  nvramFile: AbsolutePath.nullable().default(null),
});

export const ImportLibvirtRequest = z.object({
  source: z.union([
    z.object({
      xml: z
        .string()
        .min(1)
        .max(1024 * 1024),
    }),
    z.object({ file: HostFile }),
    z.object({ uri: LibvirtUri, domain: z.string().min(1).max(200) }),
  ]),
  /** Copy the disks into the new VM instead of using them in place. */
  copyDisks: z.boolean().default(false),
  blockDevices: z.boolean().default(false),
  name: VmName.optional(),
});

export interface LibvirtExport {
  xml: string;
  /** Every VM setting the domain does not carry, as a sentence saying why. */
  dropped: string[];
  name: string;
  uuid: string;
}
