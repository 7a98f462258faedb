// Which way imports may point (lint runs this; src/layering.test.ts proves the rules fire):
// shared <- engine <- api <- server / cli / shell; the renderer and the preload see only shared;
// and no cycles, type-only imports included.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles hide the real order of things; share a small module instead.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'shared-stands-alone',
      severity: 'error',
      comment: 'src/shared is used by every side: it imports nothing of theirs.',
      from: { path: '^src/shared/' },
      to: { path: '^src/(main|renderer|preload)/' },
    },
    {
      name: 'renderer-sees-only-shared',
      severity: 'error',
      comment: 'The renderer talks to the engine through the API, never by importing it.',
      from: { path: '^src/renderer/' },
      to: { path: '^src/(main|preload)/' },
    },
    {
      name: 'preload-sees-only-shared',
      severity: 'error',
      from: { path: '^src/preload/' },
      to: { path: '^src/(main|renderer)/' },
    },
    {
      name: 'engine-below-front-ends',
      severity: 'error',
      comment: 'The engine serves the API, the servers, the CLI and the shell; it imports none of them.',
      from: { path: '^src/main/engine/' },
      to: { path: '^src/main/(api|server|cli|shell)/' },
    },
    {
      name: 'operations-use-the-engine-context',
      severity: 'error',
      comment:
        'Operations depend on the EngineContext interface (engine/context.ts), not on the Engine class.',
      from: { path: '^src/main/engine/', pathNot: '^src/main/engine/(engine|index)\\.ts$' },
      to: { path: '^src/main/engine/engine\\.ts$' },
    },
    {
      name: 'api-below-transports',
      severity: 'error',
      comment: 'The API is what transports carry; it imports none of them.',
      from: { path: '^src/main/api/' },
      to: { path: '^src/main/(server|cli|shell)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '\\.test\\.tsx?$' },
  },
};
