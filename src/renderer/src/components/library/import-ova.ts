// Importing an OVA as a VM (from the Library's Add, or dropped on the window): what it would make
// and what it cannot honour are shown before anything is written, then the new VM's settings.
import type { PickedFile } from '../../../../shared/requests';
import { api } from '../../api/client';
import { notify } from '../../store/notices';
import { navigate } from '../../store/ui';

/** false: the user declined at the summary. */
export async function importOvaFile(file: PickedFile): Promise<boolean> {
  const plan = await api('image.planOva', { path: file.grant });
  const summary = `Import ${file.name} as the VM "${plan.name}" (${plan.cpus ?? '?'} CPU, ${plan.memoryMiB ?? '?'} MiB, ${plan.firmware})?`;
  const notes = plan.notHonoured.length
    ? `\n\nNot honoured:\n${plan.notHonoured.map((n) => `- ${n}`).join('\n')}`
    : '';
  if (!window.confirm(summary + notes)) return false;
  const r = await api('image.importOva', { path: file.grant });
  notify(
    'info',
    `Imported ${file.name}`,
    r.notHonoured.length ? `Not honoured: ${r.notHonoured.join('; ')}` : `VM "${r.vm.name}" is ready.`,
  );
  navigate({ kind: 'vm', id: r.vm.id, tab: 'settings' });
  return true;
}
