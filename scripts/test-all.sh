#!/usr/bin/env bash
# Every test tier in one go. The e2e and reliability tiers run first so that the output ends with
# the summary of the largest run (vitest's, covering unit and integration).
set -euo pipefail
cd "$(dirname "$0")/.."
# Static checks first: the lint rules keep the engine free of electron, and imports pointing one
# way (shared <- engine <- api <- server, cli, shell; the renderer sees only shared), with no cycles.
npx tsc --noEmit -p tsconfig.json
npx eslint .
npx depcruise src --config .dependency-cruiser.cjs --output-type err
bash scripts/guest/build.sh
npx electron-vite build --logLevel warn
node e2e/run.mjs
# Fault injection (engine and QEMU kills, torn writes, a hung QEMU, a full disk, concurrency).
npm run test:reliability
npx vitest run --project unit --project integration
