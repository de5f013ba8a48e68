import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// The layering of docs/architecture.md, as eslint.config.js enforces it: each test lints a small
// source text as if it were a file of the layer, and shows a forbidden import refused and an
// allowed one passing. As in workflow-imports.test.ts, the text is not on disk, so type-aware
// parsing is off for this check only; every other rule comes from eslint.config.js.
const eslint = new ESLint({
  cwd: process.cwd(),
  overrideConfig: {
    languageOptions: { parserOptions: { projectService: false } },
    rules: { '@typescript-eslint/no-floating-promises': 'off' },
  },
});

async function importErrors(filePath: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath });
  expect(result.messages.filter((m) => m.fatal)).toEqual([]);
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports' && m.severity === 2).map((m) => m.message);
}

/** One import of `name` from `from`, used so no other rule complains. */
const importing = (name: string, from: string, typeOnly = false) =>
  typeOnly
    ? `import type { ${name} } from '${from}';\nexport type T = typeof ${name};\n`
    : `import { ${name} } from '${from}';\nexport const v = ${name};\n`;

describe('lint: each layer imports only the layers below it', () => {
  it('engine/ imports nothing but engine/', async () => {
    const file = 'engine/planning/violation.ts';
    expect(await importErrors(file, importing('FerryError', '../errors.ts'))).toEqual([]);
    for (const from of [
      '../../scim/index.ts',
      '../../store/index.ts',
      '../../activities/index.ts',
      '@temporalio/workflow',
    ]) {
      const errors = await importErrors(file, importing('x', from));
      expect(errors, from).toHaveLength(1);
      expect(errors[0]).toMatch(/engine\/ imports none of the other layers/);
    }
  });

  it('workflows/ import only @temporalio/workflow, engine/, workflows/ and types', async () => {
    const file = 'workflows/violation.ts';
    expect(await importErrors(file, importing('proxyActivities', '@temporalio/workflow'))).toEqual([]);
    expect(await importErrors(file, importing('nextCycleAt', '../engine/policies/cadence.ts'))).toEqual([]);
    expect(await importErrors(file, importing('jobWorkflowId', './messages.ts'))).toEqual([]);
    expect(await importErrors(file, importing('FerryActivities', '../activities/types.ts', true))).toEqual([]);
    for (const from of ['../scim/index.ts', '../store/index.ts', '../api/app.ts', '@temporalio/client', 'undici']) {
      const errors = await importErrors(file, importing('x', from));
      expect(errors, from).toHaveLength(1);
      expect(errors[0]).toMatch(/workflows\/ may import only @temporalio\/workflow, engine\/ and types/);
    }
  });

  it('api/ never loads activities/ code, only their types', async () => {
    const file = 'api/routes/violation.ts';
    expect(await importErrors(file, importing('OnDemandReport', '../../activities/types.ts', true))).toEqual([]);
    const errors = await importErrors(file, importing('createActivities', '../../activities/index.ts'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/api\/ never loads activities\/ code/);
  });

  it('scim/ imports none of api/, activities/, workflows/ or store/', async () => {
    const file = 'scim/violation.ts';
    expect(await importErrors(file, importing('TransientError', '../engine/errors.ts'))).toEqual([]);
    expect(await importErrors(file, importing('sleep', './sleep.ts'))).toEqual([]);
    for (const from of [
      '../api/errors.ts',
      '../activities/failures.ts',
      '../workflows/messages.ts',
      '../store/index.ts',
    ]) {
      const errors = await importErrors(file, importing('x', from));
      expect(errors, from).toHaveLength(1);
      expect(errors[0]).toMatch(/scim\/ is the SCIM client/);
    }
  });

  it('store/ imports none of api/, activities/, workflows/ or scim/', async () => {
    const file = 'store/violation.ts';
    expect(await importErrors(file, importing('ConflictError', '../engine/errors.ts'))).toEqual([]);
    for (const from of [
      '../api/errors.ts',
      '../activities/failures.ts',
      '../workflows/messages.ts',
      '../scim/index.ts',
    ]) {
      const errors = await importErrors(file, importing('x', from));
      expect(errors, from).toHaveLength(1);
      expect(errors[0]).toMatch(/store\/ is the database/);
    }
  });
});
