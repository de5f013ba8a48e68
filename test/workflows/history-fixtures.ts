// The committed workflow histories and their manifest. Histories are append-only: a running workflow's
// history never changes, so a recorded one must not either. `test/fixtures/histories.sha256` lists the
// sha256 of every committed history (sha256sum format: `cd test/fixtures && sha256sum -c histories.sha256`);
// the recorder adds a line for each history it writes, and no line is ever changed or removed.
import { createHash } from 'node:crypto';
import { appendFile, readFile, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export const fixturesDir = fileURLToPath(new URL('../fixtures/', import.meta.url));
/** Histories that replay against today's code (replay.test.ts). */
export const historiesDir = `${fixturesDir}histories/`;
/**
 * Histories that can no longer replay, kept to show why: recorded from code before a change that shipped
 * without `patched()` (see docs/architecture.md, "How to change a workflow safely").
 */
export const unreplayableDir = `${fixturesDir}histories-unreplayable/`;
export const manifestFile = `${fixturesDir}histories.sha256`;

export const sha256 = (text: string | Buffer): string => createHash('sha256').update(text).digest('hex');

/** The manifest: fixture path (relative to test/fixtures) → sha256. */
export async function readManifest(): Promise<{ entries: Map<string, string>; lines: string[] }> {
  const lines = (await readFile(manifestFile, 'utf8')).split('\n').filter((line) => line.trim() !== '');
  const entries = new Map<string, string>();
  for (const line of lines) {
    const match = /^([0-9a-f]{64}) {2}(\S+)$/.exec(line);
    if (!match) throw new Error(`histories.sha256: "${line}" is not "<sha256>  <path>"`);
    entries.set(match[2], match[1]);
  }
  return { entries, lines };
}

/** Every history file on disk, as paths relative to test/fixtures. */
export async function historyFiles(): Promise<string[]> {
  const files: string[] = [];
  for (const [dir, prefix] of [
    [historiesDir, 'histories/'],
    [unreplayableDir, 'histories-unreplayable/'],
  ] as const) {
    for (const name of await readdir(dir)) if (name.endsWith('.json')) files.push(`${prefix}${name}`);
  }
  return files.sort();
}

/** Lists a history the recorder has just written (relative to test/fixtures). */
export async function addToManifest(relativePath: string, content: string): Promise<void> {
  await appendFile(manifestFile, `${sha256(content)}  ${relativePath}\n`);
}
