// OVAs for tests: a tar written member by member (so a test can write what no honest tool
// would), an OVF as VMware's ovftool writes one, and a manifest of SHA-256 lines.
import { createHash } from 'node:crypto';
import { pack } from 'tar-stream';

/** A tar made member by member, so a test can write what no honest tool would. */
export async function tarOf(
  members: { name: string; body?: Buffer; type?: 'file' | 'symlink'; linkname?: string }[],
) {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve) => p.on('end', () => resolve()));
  for (const m of members)
    p.entry(
      { name: m.name, type: m.type ?? 'file', linkname: m.linkname, size: m.body?.length ?? 0 },
      m.body ?? Buffer.alloc(0),
    );
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** With `data`, a second (data) disk as well. */
export function ovf(disk: string, size: number, data?: { file: string; size: number }): string {
  const dataFile = data ? `<File ovf:href="${data.file}" ovf:id="file2" ovf:size="${data.size}"/>` : '';
  const dataDisk = data
    ? `<Disk ovf:capacity="8" ovf:capacityAllocationUnits="byte * 2^20" ovf:diskId="vmdisk2" ovf:fileRef="file2" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>`
    : '';
  const dataItem = data
    ? `<Item><rasd:HostResource>ovf:/disk/vmdisk2</rasd:HostResource><rasd:ResourceType>17</rasd:ResourceType></Item>`
    : '';
  return `<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vmw="http://www.vmware.com/schema/ovf">
  <References><File ovf:href="${disk}" ovf:id="file1" ovf:size="${size}"/>${dataFile}</References>
  <DiskSection><Info>Virtual disk information</Info>
    <Disk ovf:capacity="24" ovf:capacityAllocationUnits="byte * 2^20" ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>${dataDisk}
  </DiskSection>
  <VirtualSystem ovf:id="appliance">
    <Name>appliance</Name>
    <OperatingSystemSection ovf:id="96" vmw:osType="otherLinux64Guest"><Info>OS</Info></OperatingSystemSection>
    <VirtualHardwareSection>
      <Item><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>1</rasd:VirtualQuantity></Item>
      <Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>320</rasd:VirtualQuantity></Item>
      <Item><rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource><rasd:ResourceType>17</rasd:ResourceType></Item>${dataItem}
      <Item><rasd:ResourceSubType>VmxNet3</rasd:ResourceSubType><rasd:ResourceType>10</rasd:ResourceType></Item>
      <vmw:Config ovf:required="false" vmw:key="firmware" vmw:value="bios"/>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>`;
}

export const manifest = (files: [string, Buffer][]) =>
  Buffer.from(
    files.map(([n, b]) => `SHA256(${n})= ${createHash('sha256').update(b).digest('hex')}\n`).join(''),
  );
