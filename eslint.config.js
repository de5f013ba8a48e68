// Flat config. The folder rules encode the layering of docs/architecture.md (its "Layers" table):
// engine/ is pure, workflows/ are deterministic, the API loads no activity or workflow code, and
// scim/ and store/ know nothing of the layers above them. test/lint/layer-imports.test.ts shows
// each rule refusing a forbidden import.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const layers = ['api', 'store', 'scim', 'sources', 'activities', 'workers', 'workflows', 'dev', 'gallery'];
// `**/api` would also catch the package `@opentelemetry/api`: packages are not layers.
const layerPatterns = (names) => [
  ...names.flatMap((n) => [`**/${n}/*`, `**/${n}`, `../${n}/*`]),
  '!@opentelemetry/api',
];
const escapeRegex = (text) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
/** Any package but the ones named (relative imports and Node built-ins have their own rules). */
const packagesExcept = (allowed) =>
  `^(?![./]|node:|(?:${builtinModules.map(escapeRegex).join('|')})(?:/|$)|(?:${allowed.map(escapeRegex).join('|')})$)`;

export default tseslint.config(
  { ignores: ['node_modules/**', '.ferry/**', 'store/migrations/**', 'coverage/**', 'test/fixtures/lint/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'warn',
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({
            name,
            message: 'workflows/ must stay deterministic: no Node built-ins.',
          })),
          patterns: [
            {
              group: layerPatterns(['api', 'store', 'scim', 'workers', 'dev', 'gallery']),
              message: 'workflows/ may import only @temporalio/workflow, engine/ and types.',
            },
            {
              // @temporalio/common: the deterministic definitions @temporalio/workflow is built on;
              // @temporalio/interceptors-opentelemetry: its workflow entry is made for the sandbox.
              regex: packagesExcept([
                '@temporalio/workflow',
                '@temporalio/common',
                '@temporalio/interceptors-opentelemetry/lib/workflow/index.js',
              ]),
              message: 'workflows/ may import only @temporalio/workflow, engine/ and types.',
            },
            {
              group: layerPatterns(['activities']),
              allowTypeImports: true,
              message: 'workflows/ may import activities only with `import type`.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['api/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/workflows/*', '!**/workflows/messages.ts'],
              allowTypeImports: true,
              message:
                'api/ imports workflow code only with `import type`; names and ids come from workflows/messages.ts.',
            },
            {
              group: layerPatterns(['activities']),
              allowTypeImports: true,
              message: 'api/ never loads activities/ code (it reaches them through Temporal): `import type` only.',
            },
            {
              group: layerPatterns(['workers', 'dev']),
              message: 'api/ imports none of workers/ or dev/: the composition roots import the API, not the reverse.',
            },
          ],
        },
      ],
    },
  },
  {
    // The console is a client of the public API: it reaches Ferry only over HTTP (in process).
    files: ['console/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: layerPatterns(['api', 'store', 'scim', 'activities', 'workers', 'workflows', 'dev']),
              allowTypeImports: true,
              message: 'console/ calls the public API only: `import type` at most.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['engine/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'engine/ is pure: no Node built-ins.' })),
          patterns: [
            {
              group: [...layerPatterns(layers), '@temporalio/*'],
              message: 'engine/ imports none of the other layers.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['sources/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: layerPatterns(['api', 'activities', 'workflows', 'workers', 'dev']),
              message:
                'sources/ reads identity sources and writes through store/: it imports engine/, scim/ (the address policy) and store/ only.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['scim/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: layerPatterns(['api', 'activities', 'workflows', 'store', 'workers', 'dev']),
              message: 'scim/ is the SCIM client: it imports engine/ (errors, types) and nothing of the other layers.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['store/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: layerPatterns(['api', 'activities', 'workflows', 'scim', 'sources', 'workers', 'dev']),
              message: 'store/ is the database: it imports engine/ (errors, types) and nothing of the other layers.',
            },
          ],
        },
      ],
    },
  },
  {
    // A function longer than two screens does several things: split it along the steps it names.
    files: ['{api,activities,engine,scim,sources,store,workflows,workers}/**/*.ts', 'console/**/*.{ts,tsx}'],
    rules: { 'max-lines-per-function': ['error', { max: 150, skipBlankLines: true, skipComments: true }] },
  },
  {
    // Known debts, each being changed by other work: the job workflow's main loop and the apps router.
    files: ['workflows/job.ts', 'api/routes/apps.ts'],
    rules: { 'max-lines-per-function': ['warn', { max: 150, skipBlankLines: true, skipComments: true }] },
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
  // CommonJS modules Temporal loads by path (workers/failure-converter.cjs).
  {
    files: ['**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } },
    rules: { ...tseslint.configs.disableTypeChecked.rules, '@typescript-eslint/no-require-imports': 'off' },
  },
);
