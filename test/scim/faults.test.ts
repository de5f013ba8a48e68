// Under a target that fails 20 % of requests in every way real targets fail, provisioning still
// ends in exactly the intended state, with no duplicate accounts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCIM_GROUP_SCHEMA, SCIM_USER_SCHEMA, type ScimResource } from '../../engine/types.ts';
import { createScimClient, type ScimClient } from '../../scim/index.ts';
import { type FaultProxy, type ScimPeer, startFaultProxy, startScimmyPeer } from '../support/scim-peers.ts';

const USERS = 2000;
const GROUPS = 50;
const MEMBERS_PER_GROUP = 40;
const REMOVED_PER_GROUP = 5;

const userName = (n: number) => `user.${String(n).padStart(4, '0')}@contoso.example`;
const groupName = (n: number) => `Group ${n}`;
const disabled = (n: number) => n % 10 === 3;
const deleted = (n: number) => n % 100 === 7;

/** Run `task` over `items` with at most `width` in flight (the client limits requests anyway). */
async function each<T>(items: T[], width: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await task(items[next++]);
    }),
  );
}

describe('provisioning through a target with 20 % faults', () => {
  let peer: ScimPeer;
  let proxy: FaultProxy;
  let client: ScimClient;

  beforeAll(async () => {
    peer = await startScimmyPeer();
    proxy = await startFaultProxy({
      target: peer.baseUrl,
      faultRate: 0.2,
      seed: 20261123,
      faults: [500, 502, 503, 504, 429, 'delay', 'reset', 'commitThenDrop'],
      // Retry-After: 0 keeps the test fast; the pause logic itself is tested in rate-limit.test.ts.
      retryAfterSeconds: 0,
      delayMs: 1500,
    });
    client = createScimClient({
      baseUrl: proxy.baseUrl,
      auth: { type: 'bearer', token: peer.token },
      allowInsecureLoopback: true,
      requestsPerSecond: 100_000,
      concurrency: 32,
      // Well above the peer's answer time on a loaded machine, well below the injected delay.
      timeouts: { headersMs: 1000, bodyMs: 1000 },
      retry: { attempts: 12, baseDelayMs: 5, maxDelayMs: 100 },
    });
  });

  afterAll(async () => {
    await client?.close();
    await proxy?.close();
    await peer?.close();
  });

  // The peer (scimmy) answers a few hundred requests/s on a quiet machine; the generous timeout is
  // for CI machines shared with other suites.
  it(
    'creates 2,000 users and 50 groups, then disables, deletes and regroups them exactly once each',
    { timeout: 240_000 },
    async () => {
      const userIds = new Map<number, string>();
      const indexes = Array.from({ length: USERS }, (_, n) => n);
      await each(indexes, 64, async (n) => {
        const resource: ScimResource = {
          schemas: [SCIM_USER_SCHEMA],
          userName: userName(n),
          active: true,
          displayName: `User ${n}`,
        };
        const { resource: created } = await client.createOrAdopt('Users', resource, [
          { attribute: 'userName', value: userName(n) },
        ]);
        userIds.set(n, created.id as string);
      });

      const groupIds = new Map<number, string>();
      await each(
        Array.from({ length: GROUPS }, (_, g) => g),
        16,
        async (g) => {
          const { resource } = await client.createOrAdopt(
            'Groups',
            { schemas: [SCIM_GROUP_SCHEMA], displayName: groupName(g) },
            [{ attribute: 'displayName', value: groupName(g) }],
          );
          const id = resource.id as string;
          groupIds.set(g, id);
          const members = Array.from(
            { length: MEMBERS_PER_GROUP },
            (_, m) => userIds.get(g * MEMBERS_PER_GROUP + m) as string,
          );
          await client.addMembers(id, members, 10);
          await client.removeMembers(id, members.slice(0, REMOVED_PER_GROUP), 5);
        },
      );

      await each(indexes.filter(disabled), 32, async (n) => {
        await client.patch('Users', userIds.get(n) as string, [{ op: 'replace', path: 'active', value: false }]);
      });
      await each(indexes.filter(deleted), 32, async (n) => {
        await client.delete('Users', userIds.get(n) as string);
      });

      // The target's own view, not through the proxy.
      const users = await peer.users();
      const names = users.map((u) => u.userName as string);
      expect(new Set(names).size).toBe(names.length);
      const expectedUsers = indexes.filter((n) => !deleted(n));
      expect(names.sort()).toEqual(expectedUsers.map(userName).sort());
      const byName = new Map(users.map((u) => [u.userName as string, u]));
      for (const n of expectedUsers) {
        const stored = byName.get(userName(n)) as ScimResource;
        expect(stored.id).toBe(userIds.get(n));
        expect(stored.active).toBe(!disabled(n));
      }

      const groups = await peer.groups();
      expect(groups.map((g) => g.displayName as string).sort()).toEqual(
        Array.from({ length: GROUPS }, (_, g) => groupName(g)).sort(),
      );
      for (const [g, id] of groupIds) {
        const stored = groups.find((candidate) => candidate.id === id) as ScimResource;
        const members = ((stored.members as Array<{ value: string }> | undefined) ?? []).map((m) => m.value);
        const expected = Array.from({ length: MEMBERS_PER_GROUP - REMOVED_PER_GROUP }, (_, m) =>
          userIds.get(g * MEMBERS_PER_GROUP + REMOVED_PER_GROUP + m),
        );
        expect(members.sort()).toEqual(expected.sort());
      }

      const stats = client.stats();
      const injected = Object.values(proxy.counts).reduce((sum, count) => sum + count, 0);
      console.log(`faults injected ${JSON.stringify(proxy.counts)}; client stats ${JSON.stringify(stats)}`);
      for (const kind of ['500', '502', '503', '504', '429', 'delay', 'reset', 'commitThenDrop']) {
        expect(proxy.counts[kind]).toBeGreaterThan(0);
      }
      // Faults were answered by retries, and lost create answers by adopting what the POST created.
      expect(injected).toBeGreaterThan(0.15 * stats.requests);
      expect(stats.retries).toBeGreaterThan(0);
      expect(stats.adopted).toBeGreaterThan(0);
      expect(stats.requests).toBeGreaterThan(USERS + GROUPS);
    },
  );
});
