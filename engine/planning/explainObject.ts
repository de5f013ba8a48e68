// Explains one object of one app without sending anything: the scope decision with each check and
// clause, what the mappings read and produce, the matching key, and what the next export would do
// (the planner run over the link, as a cycle runs it). Secrets and Redact()ed values show as
// `[Redact]` everywhere, requests included.
import type { ObjectTypeConfig } from '../config/schema.ts';
import { REDACTED } from '../expressions/index.ts';
import {
  applyMappings,
  groupSourceAttributes,
  readSourceAttribute,
  userSourceAttributes,
  type CompiledMappings,
  type MappingEnv,
  type MappingResult,
} from '../mapping/index.ts';
import { matchCandidates, type MatchCandidate } from '../matching/index.ts';
import { evaluateScope, type ScopeContext, type ScopeResult } from '../scoping/index.ts';
import type { DirectoryGroup, DirectoryUser, Link, ObjectType, PatchOperation, ScimResource } from '../types.ts';
import { cachedPath } from './diffResource.ts';
import { splitLinkHash } from './exportedValues.ts';
import { planObject, type Plan, type PlannedAction } from './planObject.ts';
import { getScimValue } from '../mapping/scimPath.ts';

export interface ExplainInput {
  objectType: ObjectType;
  /** The object as the directory holds it; null when hard-deleted. */
  object: DirectoryUser | DirectoryGroup | null;
  link: Link | null;
  /** The app's configuration of this type; null when the app does not provision it. */
  typeConfig: ObjectTypeConfig | null;
  compiled: CompiledMappings | null;
  scope: ScopeContext;
  env: MappingEnv;
  /** A referenced user's target id (manager), null when not linked. */
  resolveReference: (sourceId: string) => string | null;
}

export interface MappingInput {
  attribute: string;
  value: unknown;
}

export interface MappingOutput {
  target: string;
  /** The value the mapping gives (null: empty, so an update removes it). */
  value: unknown;
  apply: 'always' | 'create';
  matchingPrecedence: number | null;
}

export interface NextExport {
  action: PlannedAction | 'None';
  reason: string;
  /** Not linked: the action assumes no account matches; a match makes it an update of that account. */
  dependsOnMatch: boolean;
  /** The target must be read first (a link from before Ferry kept the exported values). */
  readsTargetFirst: boolean;
  /** A create's body, or an update's PATCH operations (secrets redacted). */
  resource: ScimResource | null;
  operations: PatchOperation[];
  modifiedAttributes: Plan['modifiedAttributes'];
}

export interface Explanation {
  scope: ScopeResult | null;
  mapping: {
    operation: 'create' | 'update';
    inputs: MappingInput[];
    outputs: MappingOutput[];
    errors: MappingResult['errors'];
    unresolvedReferences: MappingResult['unresolvedReferences'];
  } | null;
  matching: { linked: boolean; targetId: string | null; candidates: MatchCandidate[] };
  next: NextExport;
}

const isRedacted = (path: string, redacted: readonly string[]) =>
  redacted.some((r) => r === path || r.startsWith(`${path}[`) || r.startsWith(`${path}.`));

function redactResource(resource: ScimResource, redacted: readonly string[]): ScimResource {
  if (redacted.length === 0) return resource;
  const copy = structuredClone(resource);
  for (const path of redacted) {
    const parsed = cachedPath(path);
    if (getScimValue(copy, parsed) === undefined) continue;
    const holder = parsed.urn ? (copy[parsed.urn] as Record<string, unknown>) : copy;
    // Coarse on purpose: the whole attribute that holds a secret is hidden.
    holder[parsed.attribute] = REDACTED;
  }
  return copy;
}

function redactOperations(operations: PatchOperation[], redacted: readonly string[]): PatchOperation[] {
  return operations.map((op) =>
    op.path !== undefined && 'value' in op && isRedacted(op.path, redacted) ? { ...op, value: REDACTED } : op,
  );
}

function mappingView(compiled: CompiledMappings, attributes: Record<string, unknown>, result: MappingResult) {
  const readBy = new Map<string, boolean>();
  for (const m of compiled.mappings) {
    for (const attribute of m.sourceAttributes) readBy.set(attribute, (readBy.get(attribute) ?? true) && m.redacted);
  }
  const inputs = [...readBy].map(([attribute, onlyRedacted]) => {
    const value = readSourceAttribute(attributes, attribute) ?? null;
    return { attribute, value: onlyRedacted && value !== null ? REDACTED : value };
  });
  const outputs = result.managedPaths.map((target) => {
    const mapping = compiled.mappings.find((m) => m.target === target);
    const value = getScimValue(result.resource, cachedPath(target)) ?? null;
    return {
      target,
      value: result.redactedPaths.includes(target) && value !== null ? REDACTED : value,
      apply: mapping?.apply ?? 'always',
      matchingPrecedence: mapping?.matchingPrecedence ?? null,
    };
  });
  return { inputs, outputs, errors: result.errors, unresolvedReferences: result.unresolvedReferences };
}

const none = (reason: string): NextExport => ({
  action: 'None',
  reason,
  dependsOnMatch: false,
  readsTargetFirst: false,
  resource: null,
  operations: [],
  modifiedAttributes: [],
});

function nextOf(plan: Plan, redacted: readonly string[], dependsOnMatch: boolean): NextExport {
  return {
    action: plan.action,
    reason: plan.reason,
    dependsOnMatch,
    readsTargetFirst: plan.needsTarget === true,
    resource: plan.resource ? redactResource(plan.resource, redacted) : null,
    operations: redactOperations(plan.operations, redacted),
    modifiedAttributes: plan.needsTarget ? [] : plan.modifiedAttributes,
  };
}

/** What the next export would do for the object and why, computed from the directory, the configuration and the link. */
export function explainObject(input: ExplainInput): Explanation {
  const { objectType, object, typeConfig, compiled } = input;
  // Planning compares the resource part of the link's hash (a group's also covers its members).
  const link =
    input.link && input.link.targetId
      ? { ...input.link, exportedHash: splitLinkHash(objectType, input.link.exportedHash).resource }
      : null;
  const matching = { linked: link !== null, targetId: link?.targetId ?? null, candidates: [] as MatchCandidate[] };
  if (!typeConfig || !compiled || !typeConfig.enabled) {
    return {
      scope: null,
      mapping: null,
      matching,
      next: none(`${objectType} provisioning is not enabled for this app`),
    };
  }
  const settings = { actions: typeConfig.actions, skipOutOfScopeDeletions: typeConfig.skipOutOfScopeDeletions };
  const scope = object
    ? objectType === 'user'
      ? evaluateScope({ objectType: 'user', object: object as DirectoryUser }, input.scope)
      : evaluateScope({ objectType: 'group', object: object as DirectoryGroup }, input.scope)
    : null;
  if (object === null || !scope?.inScope) {
    const plan = planObject({
      objectType,
      source: object === null ? 'hardDeleted' : 'present',
      inScope: false,
      link,
      target: undefined,
      desired: null,
      settings,
    });
    return { scope, mapping: null, matching, next: nextOf(plan, [], false) };
  }

  const attributes =
    objectType === 'user'
      ? userSourceAttributes(object as DirectoryUser)
      : groupSourceAttributes(object as DirectoryGroup);
  const map = (operation: 'create' | 'update') =>
    applyMappings(compiled, attributes, { operation, env: input.env, resolveReference: input.resolveReference });
  const forCreate = map('create');
  const result = link ? map('update') : forCreate;
  matching.candidates = matchCandidates(compiled, forCreate.resource);
  const mapping = {
    operation: link ? ('update' as const) : ('create' as const),
    ...mappingView(compiled, attributes, result),
  };
  if (result.errors.length > 0) {
    return {
      scope,
      mapping,
      matching,
      next: none(`the mapping fails: ${result.errors.map((e) => e.message).join('; ')}`),
    };
  }
  const plan = planObject({
    objectType,
    source: 'present',
    inScope: true,
    link,
    target: link ? undefined : null,
    desired: result,
    settings,
  });
  return { scope, mapping, matching, next: nextOf(plan, result.redactedPaths, link === null) };
}
