// The switch process's entry (built as out/main/switch.js).
import { runSwitch } from './daemon';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: switch.js SWITCH-CONFIG.json\n');
  process.exit(2);
}
runSwitch(file).catch((err: unknown) => {
  process.stderr.write(`lab switch failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
