// Running cloud-init again in a VM (`hangar start --reseed`): cloud-init runs its per-instance
// steps when the instance-id in the seed changes, so the seed is rewritten with a new one. Reboots,
// reverts and resets keep the old id on purpose; this is the only way to ask for a second run.
import { HangarError } from '../../../shared/errors';
import type { VmConfig } from '../../../shared/vm';
import type { EngineContext } from '../context';
import { newInstanceId } from './plan';
import { writeSeed } from './seed';

export async function reseedVm(engine: EngineContext, ref: string): Promise<VmConfig> {
  return engine.withVm(ref, 'reseed', async (config) => {
    if (!config.cloudInit)
      throw new HangarError(
        'INVALID_INPUT',
        `"${config.name}" was not made from a cloud image: it has no cloud-init seed to renew.`,
      );
    const s = engine.runtime(config.id).state;
    if (s !== 'stopped' && s !== 'crashed')
      throw new HangarError(
        'CONFLICT',
        `"${config.name}" is ${s}; the seed is read at boot, so stop the VM first (hangar stop).`,
      );
    const cloudInit = { ...config.cloudInit, instanceId: newInstanceId() };
    // The seed first: if the engine dies before the config is saved, the next boot still runs
    // cloud-init again, which is what was asked for.
    await writeSeed(engine.paths(config.id).vmDir, cloudInit);
    const saved = engine.store.save({ ...config, cloudInit });
    engine.emit('config', { id: saved.id, config: saved });
    return saved;
  });
}
