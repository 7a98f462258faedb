// Waiting until a guest is ready: the checks are asked in order, once a second, and the wait ends
// when all say yes in one pass. A reboot (a new boot id) re-arms every check, so a guest that
// reboots inside cloud-init does not end the wait early. A timeout names the check that was
// still waiting and shows the end of the serial console.
import { HangarError } from '../../../shared/errors';
import type { EngineContext } from '../context';
import { qemuErrorLines, tailFile } from '../supervisor/logs';
import { bootId, runCheck, type CheckName } from './checks';

export interface WaitResult {
  checks: { check: CheckName; detail: string }[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function serialTail(engine: EngineContext, id: string): string {
  const text = tailFile(engine.paths(id).serialLog, 64 * 1024, 12);
  return qemuErrorLines(text) || text;
}

export async function waitReady(
  engine: EngineContext,
  ref: string,
  checks: CheckName[],
  timeoutMs: number,
  onStep: (check: CheckName, detail: string) => void = () => undefined,
): Promise<WaitResult> {
  const config = engine.resolve(ref);
  const deadline = Date.now() + timeoutMs;
  let waitingFor: { check: CheckName | 'running'; detail: string } = {
    check: 'running',
    detail: 'not started',
  };
  let boot: string | null = null;
  let settled = false;
  const watchBoot = checks.includes('agent') || checks.includes('cloud-init');
  while (Date.now() < deadline) {
    const state = engine.runtime(config.id).state;
    if (state === 'stopped' || state === 'crashed')
      throw new HangarError('CONFLICT', `"${config.name}" is ${state}; start it before waiting for it.`, {
        check: 'running',
      });
    if (state !== 'running') {
      waitingFor = { check: 'running', detail: `the VM is ${state}` };
      await sleep(500);
      continue;
    }
    const results: WaitResult['checks'] = [];
    let pending = false;
    for (const check of checks) {
      let r;
      try {
        r = await runCheck(engine, engine.store.load(config.id), check);
      } catch (err) {
        // A guest that says it failed (cloud-init errors) ends the wait; silence is only waiting.
        if (err instanceof HangarError && err.code !== 'TIMEOUT') throw err;
        r = { ok: false, detail: `${check}: ${(err as Error).message}` };
      }
      if (!r.ok) {
        if (waitingFor.check !== check || waitingFor.detail !== r.detail) onStep(check, r.detail);
        waitingFor = { check, detail: r.detail };
        pending = true;
        break;
      }
      results.push({ check, detail: r.detail });
    }
    // A reboot since the last pass means every answer may be stale: ask again from the start.
    const now = watchBoot ? await bootId(engine, config.id) : null;
    const rebooted = boot !== null && now !== null && now !== boot;
    if (now) boot = now;
    // Two passes in a row, on the same boot: cloud-init may reboot the guest right after it
    // reports that it is done (power_state), which one pass could mistake for readiness.
    if (!pending && !rebooted && (settled || !watchBoot)) return { checks: results };
    settled = !pending && !rebooted;
    if (rebooted) onStep(checks[0]!, 'the guest rebooted; checking again');
    await sleep(1_000);
  }
  throw new HangarError(
    'TIMEOUT',
    `"${config.name}" was not ready within ${Math.round(timeoutMs / 1000)} s: still waiting for ` +
      `${waitingFor.check} (${waitingFor.detail}). The end of its serial console:\n${serialTail(engine, config.id)}`,
    { check: waitingFor.check },
  );
}
