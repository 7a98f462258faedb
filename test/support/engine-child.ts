// A separate engine process for tests that kill it: it opens the engine (re-adopting what is
// running), runs the requested operation and stays alive until killed.
import { Engine } from '../../src/main/engine/engine';

const [op, ref] = process.argv.slice(2);
const engine = await Engine.open();
engine.on('state', (s) => console.log(`state ${s.state}`));
if (op === 'start' && ref) await engine.start(ref);
console.log(`ready ${process.pid}`);
setInterval(() => undefined, 1 << 30);
