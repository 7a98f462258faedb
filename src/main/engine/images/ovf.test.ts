import { describe, expect, it } from 'vitest';
import { parseOvf, unitBytes } from './ovf';

// Shaped as VMware's ovftool writes an OVF (namespaced rasd items, capacity in GiB units).
const VMWARE = `<?xml version="1.0" encoding="UTF-8"?>
<Envelope vmw:buildId="build-1" xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vmw="http://www.vmware.com/schema/ovf">
  <References><File ovf:href="web-disk1.vmdk" ovf:id="file1" ovf:size="1024"/></References>
  <DiskSection><Info>Virtual disk information</Info>
    <Disk ovf:capacity="16" ovf:capacityAllocationUnits="byte * 2^30" ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>
  </DiskSection>
  <VirtualSystem ovf:id="web">
    <Name>web</Name>
    <OperatingSystemSection ovf:id="101" vmw:osType="debian11_64Guest"><Info>The OS</Info></OperatingSystemSection>
    <VirtualHardwareSection>
      <Item><rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>2</rasd:VirtualQuantity></Item>
      <Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>2048</rasd:VirtualQuantity></Item>
      <Item><rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource><rasd:ResourceType>17</rasd:ResourceType></Item>
      <Item><rasd:ResourceSubType>VmxNet3</rasd:ResourceSubType><rasd:ResourceType>10</rasd:ResourceType></Item>
      <vmw:Config ovf:required="false" vmw:key="firmware" vmw:value="efi"/>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>`;

// Shaped as VirtualBox exports (MegaBytes units, E1000, its own Machine section with the firmware).
const VBOX = `<?xml version="1.0"?>
<Envelope ovf:version="1.0" xml:lang="en-US" xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vbox="http://www.virtualbox.org/ovf/machine">
  <References><File ovf:id="file1" ovf:href="box-disk001.vmdk"/></References>
  <DiskSection><Disk ovf:capacity="10737418240" ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/><Disk ovf:capacity="1073741824" ovf:diskId="vmdisk2" ovf:fileRef="file2"/></DiskSection>
  <VirtualSystem ovf:id="box &amp; co">
    <OperatingSystemSection ovf:id="96"><Description>Debian_64</Description></OperatingSystemSection>
    <VirtualHardwareSection>
      <Item><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>1</rasd:VirtualQuantity></Item>
      <Item><rasd:AllocationUnits>MegaBytes</rasd:AllocationUnits><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>1024</rasd:VirtualQuantity></Item>
      <Item><rasd:ResourceSubType>E1000</rasd:ResourceSubType><rasd:ResourceType>10</rasd:ResourceType></Item>
      <Item><rasd:HostResource>/disk/vmdisk1</rasd:HostResource><rasd:ResourceType>17</rasd:ResourceType></Item>
    </VirtualHardwareSection>
    <vbox:Machine><Hardware><Firmware type="BIOS"/></Hardware></vbox:Machine>
  </VirtualSystem>
</Envelope>`;

describe('OVF descriptors', () => {
  it('reads a VMware OVF: units, stream-optimized disk, firmware, and says what is not honoured', () => {
    const m = parseOvf(VMWARE);
    expect(m).toMatchObject({ name: 'web', cpus: 2, memoryMiB: 2048, firmware: 'uefi', nics: ['virtio'] });
    expect(m.disks).toEqual([
      { file: 'web-disk1.vmdk', capacityBytes: 16 * 2 ** 30, format: 'vmdk (stream-optimized)' },
    ]);
    expect(m.osType).toBe('debian11_64Guest');
    expect(m.notHonoured).toEqual(['NIC model vmxnet3: virtio is used instead']);
  });

  it('reads a VirtualBox OVF: MegaBytes, E1000, an empty second disk listed as not created', () => {
    const m = parseOvf(VBOX);
    expect(m).toMatchObject({
      name: 'box & co',
      cpus: 1,
      memoryMiB: 1024,
      firmware: 'bios',
      nics: ['e1000e'],
    });
    expect(m.disks.map((d) => d.file)).toEqual(['box-disk001.vmdk']);
    expect(m.notHonoured.join('\n')).toMatch(/disk vmdisk2 has no file/);
    expect(m.notHonoured.join('\n')).toMatch(/NIC model e1000: e1000e/);
  });

  it('reads firmware from the elements: VirtualBox EFI, VMware Secure Boot noted as not honoured', () => {
    expect(parseOvf(VBOX.replace('<Firmware type="BIOS"/>', '<Firmware type="EFI64"/>')).firmware).toBe(
      'uefi',
    );
    const secure = parseOvf(
      VMWARE.replace(
        '<vmw:Config ovf:required="false" vmw:key="firmware" vmw:value="efi"/>',
        '<vmw:Config vmw:key="firmware" vmw:value="efi"/><vmw:Config vmw:key="uefi.secureBoot.enabled" vmw:value="true"/>',
      ),
    );
    expect(secure.firmware).toBe('uefi');
    expect(secure.notHonoured.join('\n')).toMatch(/Secure Boot/);
    // The words in a description are not settings.
    const prose = parseOvf(VBOX.replace('Debian_64', 'key="firmware" value="efi"'));
    expect(prose.firmware).toBe('bios');
  });

  it('refuses a document type, malformed XML and unknown units', () => {
    expect(() => parseOvf('<!DOCTYPE x [<!ENTITY a "aaaa">]><Envelope/>')).toThrow(/document type/);
    expect(() => parseOvf('<Envelope><VirtualSystem>')).toThrow(/not well-formed|no virtual system/);
    expect(() => parseOvf('<Other/>')).toThrow(/no Envelope/);
    expect(unitBytes('byte * 2^20')).toBe(2 ** 20);
    expect(() => unitBytes('furlongs')).toThrow(/allocation unit/);
  });
});
