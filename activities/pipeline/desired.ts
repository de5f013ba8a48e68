// What the target should hold for an object: its mappings for a create and for an update, each
// computed when first needed (a linked object needs the update mapping, a new one the create
// mapping), and the match candidates the create mapping gives.
import { randomUUID } from 'node:crypto';
import {
  applyMappings,
  groupSourceAttributes,
  userSourceAttributes,
  type CompiledMappings,
  type MappingResult,
  type SourceAttributes,
} from '../../engine/mapping/index.ts';
import { matchCandidates, type MatchCandidate } from '../../engine/matching/index.ts';
import type { ObjectContext, SourceObject } from './types.ts';

export function mappingEnv(now: Date) {
  return { now: () => now, random: Math.random, guid: () => randomUUID() };
}

/** A referenced user's target id: only a linked, active account can be referred to. */
export function linkedTargetId(ctx: Pick<ObjectContext, 'userLinks'>): (sourceId: string) => string | null {
  return (sourceId) => {
    const l = ctx.userLinks.get(sourceId);
    return l && l.targetId && l.active ? l.targetId : null;
  };
}

export class Desired {
  readonly resolveReference: (sourceId: string) => string | null;
  private readonly attributes: SourceAttributes | null;
  private createResult: MappingResult | undefined;
  private updateResult: MappingResult | undefined;
  private candidateList: MatchCandidate[] | undefined;

  constructor(
    private readonly ctx: Pick<ObjectContext, 'now' | 'userLinks'>,
    source: SourceObject,
    private readonly compiled: CompiledMappings,
  ) {
    this.attributes = source.object
      ? source.type === 'user'
        ? userSourceAttributes(source.object)
        : groupSourceAttributes(source.object)
      : null;
    this.resolveReference = linkedTargetId(ctx);
  }

  /** The create mapping (in scope objects only: a hard-deleted object has none). */
  forCreate(): MappingResult {
    return (this.createResult ??= this.map('create') as MappingResult);
  }

  forUpdate(): MappingResult {
    return (this.updateResult ??= this.map('update') as MappingResult);
  }

  /** The matching attributes with the values the create mapping gives, in precedence order. */
  candidates(): MatchCandidate[] {
    return (this.candidateList ??= matchCandidates(this.compiled, this.forCreate().resource));
  }

  private map(operation: 'create' | 'update'): MappingResult | null {
    return this.attributes
      ? applyMappings(this.compiled, this.attributes, {
          operation,
          env: mappingEnv(this.ctx.now),
          resolveReference: this.resolveReference,
        })
      : null;
  }
}
