import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  main: {
    build: {
      rollupOptions: {
        // The CLI ships in the same bundle directory as the Electron main process so both
        // run the very same engine code.
        input: {
          index: resolve(__dirname, 'src/main/index.ts'),
          cli: resolve(__dirname, 'src/main/cli/index.ts'),
          // The lab switch runs as its own detached process (see engine/network/switch/process.ts).
          switch: resolve(__dirname, 'src/main/engine/network/switch/main.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      rollupOptions: {
        input: { index: resolve(__dirname, 'src/preload/index.ts') },
        // Sandboxed preloads run as classic scripts, so CommonJS; .cjs because package.json says
        // "type": "module".
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    // Asset URLs relative to index.html: the host server serves the app under a secret base path
    // (/s/<random>/), and its token cookie only reaches URLs under it. (electron-vite's production
    // default too; stated here because the server depends on it.)
    base: './',
    build: {
      rollupOptions: { input: { index: resolve(__dirname, 'src/renderer/index.html') } },
    },
    plugins: [react()],
  },
});
