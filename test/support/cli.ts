// Runs the built `hangar` command as a user would (npm run build makes it; the test scripts build first).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const bin = join(__dirname, '..', '..', 'bin', 'hangar.js');

export function requireBuild(): void {
  if (!existsSync(join(__dirname, '..', '..', 'out', 'main', 'cli.js'))) {
    throw new Error(
      'The CLI is not built: run `npm run build` (npm test and npm run test:integration do it).',
    );
  }
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
  json: () => unknown;
}

export function hangar(env: NodeJS.ProcessEnv, args: string[], input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end(input ?? '');
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr, json: () => JSON.parse(stdout) }));
  });
}

export function hangarSync(env: NodeJS.ProcessEnv, args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8' });
}

export { bin };
