// An on-demand request whose progress cannot be written goes on, and the server log says why — as
// the logger writes every error: without the parameters of the failed statement (the progress
// document: the object's attributes, personal data).
import { DrizzleQueryError } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { OnDemandProgressRecorder } from '../../activities/on-demand-progress.ts';
import { createLogger } from '../../api/logger.ts';
import type { Store } from '../../store/index.ts';

describe('on-demand progress that cannot be written', () => {
  it('is logged without the statement’s parameters', async () => {
    const failed = new DrizzleQueryError('insert into "on_demand_progress" ("doc") values ($1)', [
      '{"displayName":"Ada Lovelace","mobilePhone":"+1 555 0199"}',
    ]);
    const store = {
      onDemandProgress: {
        set: () => Promise.reject(failed),
      },
    } as unknown as Store;
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', write: (line) => lines.push(line) });
    const input = { appId: 'app-1', requestId: 'req-1', objectType: 'user', objectId: 'u1' } as const;
    const recorder = new OnDemandProgressRecorder(store, input as never, log, new Date('2026-01-01T00:00:00Z'));
    await recorder.fail({ type: 'TransientError', message: 'x' }, true);

    const logged = lines.filter((line) => line.includes('on-demand progress not written'));
    expect(logged.length).toBeGreaterThan(0);
    for (const line of logged) {
      expect(line).not.toContain('Ada Lovelace');
      expect(line).not.toContain('555 0199');
      expect(line).toContain('params hidden');
    }
  });
});
