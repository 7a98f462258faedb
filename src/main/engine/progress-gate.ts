// Progress events at most about ten times a second per VM: qemu-img reports many times a
// second, and every report goes to every client. A new step and the end always get through.
export class ProgressGate {
  private readonly last = new Map<string, { at: number; step: string }>();

  constructor(private readonly minGapMs = 100) {}

  /** True when this report should be sent. */
  pass(id: string, step: string, percent: number, now = Date.now()): boolean {
    const last = this.last.get(id);
    if (percent >= 100) {
      this.last.delete(id);
      return true;
    }
    if (last && last.step === step && now - last.at < this.minGapMs) return false;
    this.last.set(id, { at: now, step });
    return true;
  }
}
