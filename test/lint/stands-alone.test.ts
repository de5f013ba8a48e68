import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// A clone of the repository is all a maintainer has: nothing in it may send them to documents
// that live outside it (the planning documents Ferry was specified from are not part of it).
const OUTSIDE = /\.\.\/shared\b|\bDESIGN\.md\b|\bSTYLE\.md\b|\bseeds\//;
const THIS_FILE = 'test/lint/stands-alone.test.ts';

function trackedFiles(): string[] {
  return execFileSync('git', ['ls-files', '-z'], { encoding: 'utf8' }).split('\0').filter(Boolean);
}

describe('the repository stands alone', () => {
  it('no tracked file refers to documents outside the repository', () => {
    const offenders: string[] = [];
    for (const file of trackedFiles()) {
      if (file === THIS_FILE || file.endsWith('package-lock.json') || !existsSync(file)) continue;
      const text = readFileSync(file, 'utf8');
      if (text.includes('\0')) continue;
      text.split('\n').forEach((line, index) => {
        if (OUTSIDE.test(line)) offenders.push(`${file}:${index + 1}: ${line.trim()}`);
      });
    }
    expect(offenders).toEqual([]);
  });

  it("tracks no symbolic link (a link into one machine's folders breaks every other clone)", () => {
    const links = execFileSync('git', ['ls-files', '-s', '-z'], { encoding: 'utf8' })
      .split('\0')
      .filter((entry) => entry.startsWith('120000 '))
      .map((entry) => entry.split('\t')[1]);
    expect(links).toEqual([]);
  });

  it('the documentation the README points to exists', () => {
    const readme = readFileSync('README.md', 'utf8');
    const linked = [...readme.matchAll(/\]\((docs\/[^)]+)\)/g)].map((m) => m[1]);
    expect(linked).toEqual(
      expect.arrayContaining(['docs/architecture.md', 'docs/operations.md', 'docs/configuration.md']),
    );
    for (const doc of linked) expect(existsSync(path.resolve(doc)), doc).toBe(true);
  });
});
