// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// Node built-ins must never reach workflow code: it runs in Temporal's deterministic sandbox.
const nodeBuiltins = [
  'assert',
  'buffer',
  'child_process',
  'cluster',
  'crypto',
  'dgram',
  'dns',
  'events',
  'fs',
  'http',
  'http2',
  'https',
  'net',
  'os',
  'path',
  'perf_hooks',
  'process',
  'readline',
  'stream',
  'timers',
  'tls',
  'url',
  'util',
  'v8',
  'vm',
  'worker_threads',
  'zlib',
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tools/**', '.data/**', 'coverage/**', 'test-artifacts/**'] },
  { ignores: ['dist-bench/**', 'dist-scripts/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/workflows/**/*.ts', 'src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.flatMap((name) => [
            { name, message: 'Workflow and shared code runs in the Temporal sandbox: no Node built-ins.' },
            {
              name: `node:${name}`,
              message: 'Workflow and shared code runs in the Temporal sandbox: no Node built-ins.',
            },
          ]),
          patterns: [
            {
              group: ['**/activities/**', '**/api/**', '**/worker/**', '**/hardware/**'],
              message: 'No I/O modules in the sandbox.',
            },
          ],
        },
      ],
    },
  },
  {
    // Tests (and the history recorder's scenarios) read JSON bodies from real HTTP responses: `any` is the
    // honest type there.
    files: ['test/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
    },
  },
  {
    files: ['**/*.mjs', '**/*.js', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { module: 'writable', require: 'readonly', __dirname: 'readonly' } },
  },
  {
    // The Node-RED nodes are plain CommonJS for Node (Node-RED loads them as they are); a node keeps `this`.
    files: ['packages/node-red-contrib-sessionflow/**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
    rules: { '@typescript-eslint/no-require-imports': 'off', '@typescript-eslint/no-this-alias': 'off' },
  },
  {
    // The /ui page runs in the browser, as plain modules without a build step.
    files: ['src/ui/static/**/*.js'],
    languageOptions: { sourceType: 'module', globals: globals.browser },
  },
);
