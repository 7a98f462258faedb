// Runs the Playwright end-to-end suite in Debian's Chromium against a real `hangar serve`.
import { spawnSync } from 'node:child_process';

const r = spawnSync('npx', ['playwright', 'test', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
