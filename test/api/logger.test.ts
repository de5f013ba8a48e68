import { describe, expect, it } from 'vitest';
import { FailedAuthLimiter } from '../../api/failed-auth-limiter.ts';
import { createLogger, REDACTED } from '../../api/logger.ts';

describe('structured logger', () => {
  it('writes one JSON line per entry and redacts secret-looking fields at any depth', () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l), base: { service: 'api' }, now: () => new Date(0) });
    log.info('target call', {
      appId: 'a1',
      headers: { Authorization: 'Bearer s3cr3t', accept: 'application/json' },
      target: { url: 'https://scim.example', token: 's3cr3t', oauth: { clientSecret: 's3cr3t' } },
      apiKey: 's3cr3t',
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('s3cr3t');
    expect(JSON.parse(lines[0])).toEqual({
      time: '1970-01-01T00:00:00.000Z',
      level: 'info',
      msg: 'target call',
      service: 'api',
      appId: 'a1',
      headers: { Authorization: REDACTED, accept: 'application/json' },
      target: { url: 'https://scim.example', token: REDACTED, oauth: { clientSecret: REDACTED } },
      apiKey: REDACTED,
    });
  });

  it('drops entries below its level', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'warn', write: (l) => lines.push(l) });
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e', { error: new Error('boom') });
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['w', 'e']);
    expect(JSON.parse(lines[1]).error.message).toBe('boom');
  });
});

describe('failed-auth limiter', () => {
  it('blocks an address after maxFailures within the window, until the oldest leaves it', () => {
    let now = 0;
    const limiter = new FailedAuthLimiter({ maxFailures: 3, windowMs: 1000, now: () => now });
    for (const t of [0, 100, 200]) {
      now = t;
      expect(limiter.blockedFor('a')).toBe(0);
      limiter.recordFailure('a');
    }
    expect(limiter.blockedFor('a')).toBe(800);
    expect(limiter.blockedFor('b')).toBe(0);
    now = 1001;
    expect(limiter.blockedFor('a')).toBe(0);
  });

  it('keeps at most maxAddresses addresses, forgetting the stalest', () => {
    let now = 0;
    const limiter = new FailedAuthLimiter({ maxFailures: 1, windowMs: 60_000, maxAddresses: 100, now: () => now });
    for (let i = 0; i < 1000; i++) {
      now = i;
      limiter.recordFailure(`10.0.${Math.floor(i / 256)}.${i % 256}`);
    }
    // The newest addresses are still blocked, the oldest were dropped to bound memory.
    expect(limiter.blockedFor('10.0.3.231')).toBeGreaterThan(0);
    expect(limiter.blockedFor('10.0.0.0')).toBe(0);
  });
});
