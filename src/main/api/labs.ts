// The lab methods of the API: each verb's progress goes out as `lab` events, so every front end
// (the CLI's live lines, the app's Labs view) sees the same.
import type { z } from 'zod';
import type { ApiParams, ApiResults } from '../../shared/api';
import type { LabEvent } from '../../shared/lab/status';
import type { Engine } from '../engine/engine';
import { labUp, planLab } from '../engine/labs/up';
import { exportLab } from '../engine/labs/export';
import {
  labBaseline,
  labCapture,
  labDestroy,
  labDown,
  labList,
  labReset,
  labStatus,
  labWait,
} from '../engine/labs/lifecycle';

type P<M extends keyof typeof ApiParams> = z.output<(typeof ApiParams)[M]>;

export function labHandlers(engine: Engine) {
  const onEvent = (e: LabEvent) => engine.emit('lab', e);
  return {
    'lab.plan': (p: P<'lab.plan'>): ApiResults['lab.plan'] => {
      const { lab, plan } = planLab(engine, p);
      return { lab: lab.name, plan };
    },
    'lab.up': async (p: P<'lab.up'>): Promise<ApiResults['lab.up']> => {
      const state = await labUp(engine, p, { only: p.only, parallel: p.parallel, onEvent });
      return labStatus(engine, state.name);
    },
    'lab.list': () => labList(engine),
    'lab.status': (p: P<'lab.status'>) => labStatus(engine, p.lab),
    'lab.down': async (p: P<'lab.down'>): Promise<ApiResults['lab.down']> => {
      await labDown(engine, p.lab, { shutdown: p.shutdown, onEvent });
      return labStatus(engine, p.lab);
    },
    'lab.reset': async (p: P<'lab.reset'>): Promise<ApiResults['lab.reset']> => {
      const { ms } = await labReset(engine, p.lab, p.vm);
      return { ms, status: await labStatus(engine, p.lab) };
    },
    'lab.destroy': (p: P<'lab.destroy'>) => labDestroy(engine, p.lab, onEvent),
    'lab.wait': async (p: P<'lab.wait'>): Promise<ApiResults['lab.wait']> => {
      await labWait(engine, p.lab, p.timeoutSec * 1000);
      return labStatus(engine, p.lab);
    },
    'lab.export': (p: P<'lab.export'>) => exportLab(engine, { name: p.lab, vms: p.vms, subnet: p.subnet }),
    'lab.baseline': async (p: P<'lab.baseline'>): Promise<ApiResults['lab.baseline']> => {
      await labBaseline(engine, p.lab);
      return labStatus(engine, p.lab);
    },
    'lab.capture': (p: P<'lab.capture'>) => labCapture(engine, p.lab, p.segment, p.file),
  };
}
