// A process that tries to take the engine lock of a home when "go" arrives on stdin, prints the
// outcome as one JSON line, and keeps what it took until it is killed. Several of these race.
import { EngineLock } from '../../src/main/engine/lock';
import { HangarError } from '../../src/shared/errors';

const [home, endpoint] = process.argv.slice(2);
process.stdin.once('data', () => {
  EngineLock.acquire(home!, endpoint ?? null).then(
    (lock) => console.log(JSON.stringify({ won: true, pid: process.pid, holder: lock.holder })),
    (err: unknown) =>
      console.log(
        JSON.stringify(
          err instanceof HangarError
            ? { won: false, pid: process.pid, code: err.code, details: err.details }
            : { won: false, pid: process.pid, error: String(err) },
        ),
      ),
  );
});
console.log('ready');
setInterval(() => undefined, 1 << 30);
