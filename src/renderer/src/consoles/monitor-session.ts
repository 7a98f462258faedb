// The human monitor transcript of one VM. It is kept here rather than in component state so a tab
// switch does not wipe what the user asked QEMU and what it answered.
import { api } from '../api/client';
import { errorMessage } from '../store/notices';
import { Observable } from './observable';

export interface MonitorEntry {
  n: number;
  command: string;
  /** null while the engine has not answered yet. */
  output: string | null;
  failed: boolean;
}

const MAX_ENTRIES = 500;

export class MonitorSession {
  readonly entries = new Observable<MonitorEntry[]>([]);
  /** Commands sent, oldest first, for the up/down arrows. */
  readonly history: string[] = [];
  private next = 1;
  // Commands run one after another, so answers come back in the order they were asked.
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly vmId: string) {}

  run(command: string): void {
    const n = this.next++;
    if (this.history.at(-1) !== command) this.history.push(command);
    this.update((list) => [...list, { n, command, output: null, failed: false }].slice(-MAX_ENTRIES));
    this.queue = this.queue.then(async () => {
      try {
        const { output } = await api('vm.monitor', { vm: this.vmId, command });
        this.finish(n, output, false);
      } catch (err) {
        // The engine's refusal says why the command is not allowed; it belongs in the transcript.
        this.finish(n, errorMessage(err), true);
      }
    });
  }

  clear(): void {
    this.entries.set([]);
  }

  private finish(n: number, output: string, failed: boolean): void {
    this.update((list) => list.map((e) => (e.n === n ? { ...e, output, failed } : e)));
  }

  private update(fn: (list: MonitorEntry[]) => MonitorEntry[]): void {
    this.entries.set(fn(this.entries.get()));
  }
}
