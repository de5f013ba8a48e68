// Initial cycles match against one listing of the target instead of one filtered GET per object. The
// listing is streamed into the store page by page (store/target-listings.ts), never held whole in
// worker memory: each saved page moves the listing's cursor on in the same transaction, and the
// activity heartbeats with it, so a crash or a retried activity continues from the last saved page.
import {
  candidateIndexKey,
  candidateKeys,
  distributeListed,
  lookupPrefetched,
  targetIndexKeys,
  type MatchCandidate,
} from '../engine/matching/index.ts';
import type { ObjectType, ScimResource } from '../engine/types.ts';
import type { Store, TargetListingProgress } from '../store/index.ts';
import type { AppRuntime } from './app-runtime.ts';

/** Accounts asked for per listing request. */
export const LISTING_PAGE_SIZE = 1000;

/** Finds listed accounts by a matching candidate (the in-memory index's successor, backed by the store). */
export interface TargetLookup {
  find(candidate: MatchCandidate): Promise<readonly ScimResource[]>;
  /**
   * A lookup for one page of objects: the accounts of all of `candidates` read in one query up front,
   * `find` answered from them, a candidate not among them looked up on its own.
   */
  prefetch(candidates: Iterable<MatchCandidate>): Promise<TargetLookup>;
}

/**
 * Lists the target's accounts of `objectType` into the store from where an earlier attempt stopped,
 * calling `onPage` after each saved page (the caller heartbeats with it). Returns the lookup.
 */
export async function streamTargetListing(
  store: Store,
  runtime: AppRuntime,
  listing: {
    cycleId: string;
    objectType: ObjectType;
    attributes: readonly string[];
    pageSize?: number;
    onPage?: (progress: TargetListingProgress) => void;
  },
): Promise<TargetLookup> {
  const { cycleId, objectType, attributes } = listing;
  let progress = await store.targetListings.start(cycleId, objectType, attributes);
  while (!progress.done) {
    const startIndex = progress.nextIndex;
    const page = await runtime.client.list(objectType === 'user' ? 'Users' : 'Groups', {
      startIndex,
      count: listing.pageSize ?? LISTING_PAGE_SIZE,
      ...(objectType === 'group' ? { excludedAttributes: ['members'] } : {}),
    });
    const accounts = page.resources.map((resource) => ({ resource, keys: targetIndexKeys(resource, attributes) }));
    progress = await store.targetListings.savePage(cycleId, objectType, startIndex, accounts, page.totalResults);
    listing.onPage?.(progress);
  }
  return storedLookup(store, cycleId, objectType);
}

function storedLookup(store: Store, cycleId: string, objectType: ObjectType): TargetLookup {
  const lookup: TargetLookup = {
    async find(candidate) {
      const key = candidateIndexKey(candidate);
      return key === null ? [] : store.targetListings.find(cycleId, objectType, candidate.attribute, key);
    },
    async prefetch(candidates) {
      const keys = candidateKeys(candidates);
      const prefetched = distributeListed(keys, await store.targetListings.findMany(cycleId, objectType, keys));
      return {
        find: async (candidate) => lookupPrefetched(prefetched, candidate) ?? lookup.find(candidate),
        prefetch: (more) => lookup.prefetch(more),
      };
    },
  };
  return lookup;
}
