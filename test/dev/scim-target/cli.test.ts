// `npx tsx dev/scim-target/cli.ts --port 0` prints where it listens and serves until SIGTERM.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';

describe('scim-target CLI', () => {
  it('prints its base URL and token as JSON, serves, and exits on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'dev/scim-target/cli.ts', '--port', '0', '--token', 'cli-token'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    try {
      const lines = createInterface({ input: child.stdout! });
      const [line] = (await once(lines, 'line')) as [string];
      const { baseUrl, token } = JSON.parse(line) as { baseUrl: string; token: string };
      expect(token).toBe('cli-token');
      expect(baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/scim\/v2$/);
      const res = await fetch(`${baseUrl}/Users`, { headers: { Authorization: 'Bearer cli-token' } });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { totalResults: number }).totalResults).toBe(0);
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
