// How `npm run demo` ends: in a terminal Ferry stays up with commands to try; in CI it exits, and
// then it never prints commands for a server that is gone.
import { describe, expect, it } from 'vitest';
import { closingHints, keepsRunning } from '../../workers/demo.ts';

describe('npm run demo', () => {
  it('keeps Ferry running in a terminal and with --keep-running; exits in CI (no terminal) and with --exit', () => {
    expect(keepsRunning([], true)).toBe(true);
    expect(keepsRunning([], false)).toBe(false);
    expect(keepsRunning(['--keep-running'], false)).toBe(true);
    expect(keepsRunning(['--exit'], true)).toBe(false);
  });

  it('offers commands to try only while Ferry is up to answer them, and says it runs until Ctrl-C', () => {
    const o = { url: 'http://127.0.0.1:41234', appId: 'app-1', keySource: 'one of FERRY_API_KEYS' };
    const running = closingHints({ ...o, keepRunning: true }).join('\n');
    expect(running).toContain('until Ctrl-C');
    expect(running).toContain(`curl -H "Authorization: Bearer $FERRY_API_KEY" ${o.url}/api/v1/apps/app-1/provisioning`);

    const exiting = closingHints({ ...o, keepRunning: false }).join('\n');
    expect(exiting).not.toContain('curl');
    expect(exiting).not.toContain(o.url);
    expect(exiting).toContain('npm run demo -- --keep-running');
  });
});
