// The lab switch process: `switch.js CONFIG` serves every segment of one lab until told to quit,
// connecting to the socket each VM NIC's QEMU listens on (see ports.ts).
// It runs detached like QEMU (its own session, output to switch.log), so an app restart never
// cuts a lab's network; the next engine finds it by its pidfile and talks to its control socket.
import { readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { Segment } from './segment';
import { SegmentServices } from './services';
import { PcapWriter } from './pcap';
import { PortConnector } from './ports';
import { SwitchConfig, type ControlRequest, type SwitchStatus, type SwitchSegment } from './config';

const MAX_REQUEST = 64 * 1024;

interface Served {
  segment: Segment;
  services: SegmentServices;
  /** Socket path -> its connector. */
  ports: Map<string, PortConnector>;
}

function log(msg: string): void {
  process.stdout.write(`${new Date().toISOString()} ${msg}\n`);
}

export class SwitchDaemon {
  private readonly served = new Map<string, Served>();
  private config: SwitchConfig;
  private applying: Promise<void> = Promise.resolve();

  constructor(private readonly configFile: string) {
    this.config = SwitchConfig.parse(JSON.parse(readFileSync(configFile, 'utf8')));
  }

  get controlSocket(): string {
    return `${this.config.runDir}/control.sock`;
  }

  async start(): Promise<void> {
    await this.apply(this.config);
    const control = createServer((sock) => this.serveControl(sock));
    rmSync(this.controlSocket, { force: true });
    await new Promise<void>((resolve, reject) => {
      control.once('error', reject);
      control.listen(this.controlSocket, () => resolve());
    });
    chmodSync(this.controlSocket, 0o600);
    writeFileSync(`${this.config.runDir}/switch.pid`, `${process.pid}\n`, { mode: 0o600 });
    log(`lab ${this.config.lab}: serving ${[...this.served.keys()].join(', ') || 'no segments'}`);
  }

  /** Brings the served segments in line with a config: new ones listen, gone ones close. */
  private async apply(config: SwitchConfig): Promise<void> {
    const wanted = new Map(config.segments.map((s) => [s.name, s]));
    for (const [name, s] of this.served) {
      if (!wanted.has(name)) {
        s.ports.forEach((p) => p.close());
        await s.segment.close();
        await s.services.capture?.close();
        this.served.delete(name);
      }
    }
    for (const seg of config.segments) {
      const old = this.served.get(seg.name);
      const services = new SegmentServices(settingsOf(seg, config.domain), old?.services);
      if (old) {
        services.capture = old.services.capture;
        old.services = services;
        this.connectPorts(old, seg.ports);
        continue;
      }
      const served: Served = { services, segment: null as unknown as Segment, ports: new Map() };
      served.segment = new Segment(null, {
        tap: (frame) => {
          const s = served.services;
          s.capture?.add(frame);
          const reply = s.answer(frame);
          if (reply) setImmediate(() => served.segment.inject(reply));
        },
        log: (m) => log(`${seg.name}: ${m}`),
      });
      this.served.set(seg.name, served);
      this.connectPorts(served, seg.ports);
    }
    this.config = config;
  }

  /** Connects to each NIC socket of the segment, and lets go of those no longer in it. */
  private connectPorts(served: Served, wanted: string[]): void {
    for (const [path, p] of served.ports) {
      if (!wanted.includes(path)) {
        p.close();
        served.ports.delete(path);
      }
    }
    for (const path of wanted) {
      if (!served.ports.has(path))
        served.ports.set(path, new PortConnector(path, (sock) => served.segment.attach(sock)));
    }
  }

  status(): SwitchStatus {
    return {
      pid: process.pid,
      lab: this.config.lab,
      segments: [...this.served].map(([name, s]) => ({
        name,
        ports: s.segment.portCount,
        dropped: s.segment.dropped,
        answered: { ...s.services.answered },
        capture: s.services.capture
          ? { frames: s.services.capture.frames, full: s.services.capture.full }
          : null,
      })),
    };
  }

  async handle(req: ControlRequest): Promise<unknown> {
    switch (req.op) {
      case 'status':
        return this.status();
      case 'reload': {
        // One reload at a time: two interleaved would make a segment twice.
        const next = this.applying.then(() =>
          this.apply(SwitchConfig.parse(JSON.parse(readFileSync(this.configFile, 'utf8')))),
        );
        this.applying = next.catch(() => undefined);
        await next;
        return this.status();
      }
      case 'capture': {
        const s = this.served.get(req.segment);
        if (!s) throw new Error(`no segment "${req.segment}" in lab ${this.config.lab}`);
        if (s.services.capture) throw new Error(`segment "${req.segment}" is already being captured`);
        const writer = new PcapWriter(req.file);
        // An unwritable file (exists, no such folder) is reported instead of the capture starting.
        const failed = await Promise.race([
          writer.errorPromise,
          new Promise<null>((r) => setTimeout(() => r(null), 50)),
        ]);
        if (failed) throw new Error(`cannot write ${req.file}: ${failed.message}`);
        s.services.capture = writer;
        return { capturing: req.file };
      }
      case 'capture-stop': {
        const s = this.served.get(req.segment);
        const writer = s?.services.capture;
        if (!s || !writer) throw new Error(`segment "${req.segment}" is not being captured`);
        s.services.capture = null;
        await writer.close();
        return { frames: writer.frames, full: writer.full };
      }
      case 'quit':
        setImmediate(() => void this.stop().then(() => process.exit(0)));
        return { quitting: true };
      default:
        throw new Error('unknown request');
    }
  }

  async stop(): Promise<void> {
    for (const s of this.served.values()) {
      s.ports.forEach((p) => p.close());
      await s.services.capture?.close();
      await s.segment.close();
    }
    this.served.clear();
    rmSync(this.controlSocket, { force: true });
    rmSync(`${this.config.runDir}/switch.pid`, { force: true });
    log('stopped');
  }

  private serveControl(sock: Socket): void {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('error', () => sock.destroy());
    sock.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_REQUEST) return void sock.destroy();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        void this.reply(sock, line);
      }
    });
  }

  private async reply(sock: Socket, line: string): Promise<void> {
    let out: unknown;
    try {
      out = { ok: true, result: await this.handle(JSON.parse(line) as ControlRequest) };
    } catch (err) {
      out = { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
    if (!sock.destroyed) sock.write(`${JSON.stringify(out)}\n`);
  }
}

function settingsOf(seg: SwitchSegment, domain: string) {
  return {
    serverIp: seg.serverIp,
    serverMac: seg.serverMac,
    prefix: seg.prefix,
    dhcp: seg.dhcp,
    domain,
    poolStart: seg.poolStart,
    leases: seg.leases,
  };
}

/** Entry point of the detached process. */
export async function runSwitch(configFile: string): Promise<void> {
  const daemon = new SwitchDaemon(configFile);
  const quit = () => void daemon.stop().then(() => process.exit(0));
  process.on('SIGTERM', quit);
  process.on('SIGINT', quit);
  // Detached with no terminal: a hangup is not a reason to cut the lab's network.
  process.on('SIGHUP', () => {});
  await daemon.start();
}
