// Flat config. The folder rules encode DESIGN.md §6: engine/ is pure, workflows/ are deterministic.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const layers = ['api', 'store', 'scim', 'activities', 'workers', 'workflows', 'dev', 'gallery'];
const layerPatterns = (names) => names.flatMap((n) => [`**/${n}/*`, `**/${n}`, `../${n}/*`]);

export default tseslint.config(
  { ignores: ['node_modules/**', '.ferry/**', 'store/migrations/**', 'coverage/**', 'test/fixtures/lint/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
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
              group: layerPatterns(['api', 'store', 'scim', 'workers', 'dev']),
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
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
);
