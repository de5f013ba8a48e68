// Recorded histories are append-only: a committed one that changes or disappears fails here, so a
// change of workflow code is never "fixed" by re-recording the histories it no longer replays.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { fixturesDir, historyFiles, readManifest, sha256 } from './history-fixtures.ts';

describe('committed workflow histories', () => {
  it('are all still there, byte for byte as the manifest (histories.sha256) lists them', async () => {
    const { entries } = await readManifest();
    const changed: string[] = [];
    for (const [file, hash] of entries) {
      let content: Buffer;
      try {
        content = await readFile(`${fixturesDir}${file}`);
      } catch {
        changed.push(`${file}: removed`);
        continue;
      }
      if (sha256(content) !== hash) changed.push(`${file}: changed (never re-record a history; add a new scenario)`);
    }
    expect(changed).toEqual([]);
    expect(entries.size).toBeGreaterThanOrEqual(52);
  });

  it('are all listed in the manifest, once each (the recorder lists what it writes)', async () => {
    const { entries, lines } = await readManifest();
    expect(lines.length).toBe(entries.size);
    const unlisted = (await historyFiles()).filter((file) => !entries.has(file));
    expect(unlisted).toEqual([]);
  });
});
