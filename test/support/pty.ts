// A libvirt domain's serial console through its pty (libvirt's <serial type='pty'>): commands in,
// everything the guest prints collected, for tests that drive a guest running under libvirtd.
import { constants, openSync, writeSync } from 'node:fs';
import { ReadStream } from 'node:tty';
import type { Virsh } from '../../src/main/engine/libvirt/virsh';
import { attr, list, one, parseUntrustedXml } from '../../src/main/engine/libvirt/xml';

/** The guest's serial port through libvirt's pty: commands in, everything it prints collected. */
export class PtyConsole {
  private readonly stream: ReadStream;
  private readonly fd: number;
  output = '';
  constructor(path: string) {
    this.fd = openSync(path, constants.O_RDWR | constants.O_NOCTTY);
    this.stream = new ReadStream(this.fd);
    this.stream.setRawMode(true);
    this.stream.on('data', (b: Buffer) => (this.output += b.toString('latin1')));
    this.stream.on('error', () => undefined);
  }
  /** Runs a line; `done` is text only the command's output contains (not its echo). */
  async run(line: string, done: RegExp, ms = 30_000): Promise<string> {
    const from = this.output.length;
    writeSync(this.fd, `${line}\n`);
    const end = Date.now() + ms;
    while (!done.test(this.output.slice(from))) {
      if (Date.now() > end)
        throw new Error(`no ${done} after "${line}"; the console shows:\n${this.output.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return this.output.slice(from);
  }
  close(): void {
    this.stream.destroy();
  }
}

/** The pty libvirt gave the domain's first serial port (it changes when QEMU restarts). */
export async function serialPty(virsh: Virsh, domain: string): Promise<string> {
  const xml = parseUntrustedXml(await virsh.dumpxml(domain));
  const serial = list(one(one(xml, 'domain'), 'devices')?.serial)[0];
  const path = attr(one(serial, 'source'), 'path');
  if (!path) throw new Error(`libvirt shows no pty for the serial port of ${domain}`);
  return path;
}
