// A page of objects is matched against the stored target listing with one query (findMany) instead
// of one find per candidate: for every candidate it must give exactly what find gives — the same
// accounts in the same order, keys normalized the same way (case-insensitive userName and e-mail,
// case-exact externalId), nothing for a value no account holds, and every account of a duplicate.
import { describe, expect, it } from 'vitest';
import {
  buildMatchFilter,
  candidateIndexKey,
  candidateKeys,
  distributeListed,
  lookupPrefetched,
  targetIndexKeys,
  type MatchCandidate,
} from '../../engine/matching/index.ts';
import type { ScimResource } from '../../engine/types.ts';
import { storeBackends, useStore } from '../support/postgres.ts';

const ATTRIBUTES = ['userName', 'emails[type eq "work"].value', 'externalId'];

const account = (id: string, userName: string, extra: Record<string, unknown> = {}): ScimResource => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  id,
  userName,
  ...extra,
});
const work = (mail: string) => ({ emails: [{ type: 'work', value: mail }] });

const candidate = (attribute: string, value: string): MatchCandidate => ({
  attribute,
  precedence: 0,
  value,
  filter: buildMatchFilter(attribute, value),
});

describe.each(storeBackends)('the stored target listing on $name', (backend) => {
  const ctx = useStore(backend);

  /** A cycle whose user listing holds `pages` (each saved at its startIndex), and a group listing. */
  async function listing(pages: ScimResource[][]): Promise<string> {
    const app = await ctx.store.apps.create({ name: 'App', template: 'generic-scim', configuration: {} });
    const { cycle } = await ctx.store.cycles.create({ appId: app.id, number: 1, kind: 'initial' });
    await ctx.store.targetListings.start(cycle.id, 'user', ATTRIBUTES);
    let startIndex = 1;
    for (const page of pages) {
      const accounts = page.map((resource) => ({ resource, keys: targetIndexKeys(resource, ATTRIBUTES) }));
      await ctx.store.targetListings.savePage(cycle.id, 'user', startIndex, accounts, 100);
      startIndex += page.length;
    }
    // A group listing of the same cycle holding the same keys must not answer for users.
    await ctx.store.targetListings.start(cycle.id, 'group', ['userName']);
    await ctx.store.targetListings.savePage(
      cycle.id,
      'group',
      1,
      [{ resource: account('g-1', 'alice@contoso.com'), keys: [{ attribute: 'userName', key: 'alice@contoso.com' }] }],
      1,
    );
    return cycle.id;
  }

  it('one findMany gives every candidate exactly what find gives it', async () => {
    const cycleId = await listing([
      [
        account('t-9', 'Alice@Contoso.com', { externalId: 'EXT-1' }),
        account('t-2', 'bob@contoso.com', work('shared@contoso.com')),
      ],
      [account('t-1', 'carol@contoso.com', work('SHARED@contoso.com')), account('t-3', 'dave@contoso.com')],
    ]);
    const candidates = [
      candidate('userName', 'alice@contoso.com'), // case-insensitive key
      candidate('userName', 'ALICE@CONTOSO.COM'), // the same key asked twice
      candidate('externalId', 'EXT-1'),
      candidate('externalId', 'ext-1'), // case-exact: finds nothing
      candidate('emails[type eq "work"].value', 'shared@contoso.com'), // two accounts: a duplicate
      candidate('userName', 'nobody@contoso.com'), // no account
      candidate('emails[type eq "work"].value', 'dave@contoso.com'),
    ];
    const keys = candidateKeys(candidates);
    expect(keys).toHaveLength(candidates.length - 1);
    const prefetched = distributeListed(keys, await ctx.store.targetListings.findMany(cycleId, 'user', keys));

    const single = async (c: MatchCandidate) =>
      (await ctx.store.targetListings.find(cycleId, 'user', c.attribute, candidateIndexKey(c) as string)).map(
        (r) => r.id,
      );
    for (const c of candidates) {
      expect(
        lookupPrefetched(prefetched, c)?.map((r) => r.id),
        c.filter,
      ).toEqual(await single(c));
    }
    // The facts find gives, spelled out: listing order across pages, the duplicate whole, no leak from groups.
    const ids = (c: MatchCandidate) => lookupPrefetched(prefetched, c)?.map((r) => r.id);
    expect(ids(candidates[0])).toEqual(['t-9']);
    expect(ids(candidates[3])).toEqual([]);
    expect(ids(candidates[4])).toEqual(['t-2', 't-1']);
    expect(ids(candidates[5])).toEqual([]);
    // A key not asked is not answered: the caller looks it up on its own.
    expect(lookupPrefetched(prefetched, candidate('userName', 'dave@contoso.com'))).toBeUndefined();
  });

  it('asks nothing for no keys', async () => {
    const cycleId = await listing([[account('t-1', 'alice@contoso.com')]]);
    expect(await ctx.store.targetListings.findMany(cycleId, 'user', [])).toEqual([]);
  });
});
