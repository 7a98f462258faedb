// `npm start`: starts what exists. The desktop window arrives with the desktop app issue; until
// then this shows what the engine sees on this host and how to drive it from the CLI, and never
// fails for want of the Electron binary.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
if (!existsSync(`${root}out/main/cli.js`)) {
  const r = spawnSync('npx', ['electron-vite', 'build', '--logLevel', 'warn'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
console.log('Hangar: the desktop window is not built yet; the engine and the `hangar` CLI are.');
console.log('This host, as the engine sees it:\n');
const probe = spawnSync(process.execPath, [`${root}bin/hangar.js`, 'probe'], { stdio: 'inherit' });
console.log('\nNext: `npx hangar --help` lists what the CLI can do.');
if (probe.status !== 0)
  console.log('The probe failed (see above): run `npm run setup` to install what it names.');
