import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// A function of more than ~150 lines (two screens) is refused in the application's folders: it does
// several things and should be split along the steps it names. The text linted is not on disk, so
// type-aware parsing is off for this check only, as in the other lint tests.
const eslint = new ESLint({
  cwd: process.cwd(),
  overrideConfig: {
    languageOptions: { parserOptions: { projectService: false } },
    rules: { '@typescript-eslint/no-floating-promises': 'off' },
  },
});

const functionOf = (lines: number) =>
  `export function long(): number {\n  let n = 0;\n${'  n += 1;\n'.repeat(lines - 4)}  return n;\n}\n`;

async function sizeErrors(filePath: string, source: string): Promise<number> {
  const [result] = await eslint.lintText(source, { filePath });
  expect(result.messages.filter((m) => m.fatal)).toEqual([]);
  return result.messages.filter((m) => m.ruleId === 'max-lines-per-function' && m.severity === 2).length;
}

describe('lint: functions fit on two screens', () => {
  it('refuses a function of more than 150 lines in scim/, activities/ and the other layers, not one of 150', async () => {
    for (const file of ['scim/violation.ts', 'activities/violation.ts', 'engine/planning/violation.ts']) {
      expect(await sizeErrors(file, functionOf(152)), file).toBe(1);
      expect(await sizeErrors(file, functionOf(150)), file).toBe(0);
    }
  });
});
