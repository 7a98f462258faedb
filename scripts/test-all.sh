#!/usr/bin/env bash
# Every test tier in one go. The e2e tier runs first so that the output ends with the summary of
# the largest run (vitest's, covering unit and integration).
set -euo pipefail
cd "$(dirname "$0")/.."
# Static checks first: the layering lint rule is how the engine stays free of electron.
npx tsc --noEmit -p tsconfig.json
npx eslint .
bash scripts/guest/build.sh
npx electron-vite build --logLevel warn
node e2e/run.mjs
npx vitest run
