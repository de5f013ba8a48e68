import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// The linted file does not exist on disk, so the type-aware project service cannot load it; the
// import rule under test needs no type information, so type-aware parsing (and the one rule that
// needs it) is switched off for this check only. Every other rule comes from eslint.config.js.
const eslint = new ESLint({
  cwd: process.cwd(),
  overrideConfig: {
    languageOptions: { parserOptions: { projectService: false } },
    rules: { '@typescript-eslint/no-floating-promises': 'off' },
  },
});

async function restrictedImportErrors(source: string, filePath = 'workflows/violation.ts'): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath });
  expect(result.messages.filter((m) => m.fatal)).toEqual([]);
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports' && m.severity === 2).map((m) => m.message);
}

describe('lint: workflows/ stay deterministic', () => {
  it('forbids importing a Node built-in in workflows/', async () => {
    const errors = await restrictedImportErrors(
      "import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n",
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/no Node built-ins/);
    expect(await restrictedImportErrors("import fs from 'fs';\nexport const f = fs;\n")).toHaveLength(1);
  });

  it('allows `import type` of activities but not importing them as values', async () => {
    expect(
      await restrictedImportErrors("import type { Deps } from '../activities/deps.ts';\nexport type D = Deps;\n"),
    ).toEqual([]);
    const valueImport = await restrictedImportErrors(
      "import { createActivities } from '../activities/deps.ts';\nexport const a = createActivities;\n",
    );
    expect(valueImport).toHaveLength(1);
    expect(valueImport[0]).toMatch(/import type/);
  });
});

describe('lint: the API loads no workflow code', () => {
  it('allows values from workflows/messages.ts and `import type` of workflow code, not workflow code as values', async () => {
    const inApi = (source: string) => restrictedImportErrors(source, 'api/routes/violation.ts');
    expect(
      await inApi("import { jobWorkflowId } from '../../workflows/messages.ts';\nexport const id = jobWorkflowId;\n"),
    ).toEqual([]);
    expect(
      await inApi(
        "import type { provisioningJobWorkflow } from '../../workflows/job.ts';\nexport type J = typeof provisioningJobWorkflow;\n",
      ),
    ).toEqual([]);
    const valueImport = await inApi(
      "import { provisioningJobWorkflow } from '../../workflows/job.ts';\nexport const j = provisioningJobWorkflow;\n",
    );
    expect(valueImport).toHaveLength(1);
    expect(valueImport[0]).toMatch(/workflows\/messages\.ts/);
  });
});
