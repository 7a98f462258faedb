#!/usr/bin/env bash
# Every test tier in one go. The e2e tier runs first so that the output ends with the summary of
# the largest run (vitest's, covering unit and integration).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/guest/build.sh
npx electron-vite build --logLevel warn
node e2e/run.mjs
npx vitest run
