import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

// Layering: code is foldered by where it runs, and these rules stop the wrong import.
// Bare built-in names go in `paths` (exact match); as patterns, 'vm' would also match './vm'.
const nodeMessage = 'This layer runs without Node: no Node built-ins here.';
const nodePaths = builtinModules.map((name) => ({ name, message: nodeMessage }));
const noNode = { group: ['node:*'], message: nodeMessage };
const noElectron = {
  group: ['electron', 'electron/*'],
  message: 'Only the Electron shell may import electron.',
};
const noReact = {
  group: ['react', 'react-dom', 'react/*', 'react-dom/*', 'zustand'],
  message: 'src/shared is UI-free.',
};

export default tseslint.config(
  {
    ignores: ['out/**', 'node_modules/**', '.cache/**', 'dist/**', 'test-results/**', 'playwright-report/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // CommonJS config files of tools that want one (dependency-cruiser).
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
  {
    languageOptions: {
      globals: {
        console: 'readonly',
        process: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        __dirname: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/shared/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { paths: nodePaths, patterns: [noNode, noElectron, noReact] },
      ],
    },
  },
  {
    files: ['src/main/engine/**', 'src/main/cli/**', 'src/main/server/**', 'src/main/api/**'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: [noElectron, noReact] }] },
  },
  {
    files: ['src/renderer/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { paths: nodePaths, patterns: [noNode, noElectron] },
      ],
    },
  },
);
