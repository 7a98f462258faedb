// libvirt hand-over: domain XML export from the VM model, import of a documented subset (the XML
// is untrusted), and libvirt driven through its own client, virsh. See docs/libvirt.md.
export { exportDomain, domainName, domainUuid, HANGAR_NS } from './export';
export type { ExportOptions, ExportResult } from './export';
export type { UserNet } from './devices';
export { importDomain } from './import';
export type { DiskCopy, ImportOptions, ImportPlan } from './import';
export { createFromPlan } from './create';
export type { ConfirmedChains, ImportContext } from './create';
export { defineVm, exportNvram, passtRefused } from './define';
export type { DefineResult } from './define';
export { DEFAULT_URI, Virsh, validateDomainXml } from './virsh';
export type { DomainState, VirshOptions } from './virsh';
export { exportLibvirt, importLibvirt } from './operations';
export type { ExportLibvirtOptions, ImportLibvirtOptions, ImportSource } from './operations';
