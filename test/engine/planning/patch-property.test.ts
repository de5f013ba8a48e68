// Property: for any current target resource and any desired state, applying the planner's PATCH
// with a third-party RFC 7644 implementation (scim-patch) yields exactly the desired values for
// every mapped attribute, leaves every unmapped attribute alone, and planning again finds nothing.
import { scimPatch, type ScimPatchOperation, type ScimResource as PatchLibResource } from 'scim-patch';
import { describe, expect, it } from 'vitest';
import { mappingSchema, type MappingInput } from '../../../engine/config/index.ts';
import {
  applyMappings,
  compileMappings,
  getScimValue,
  parseScimPath,
  userSourceAttributes,
} from '../../../engine/mapping/index.ts';
import { planObject, sameValue } from '../../../engine/planning/index.ts';
import { SCIM_ENTERPRISE_USER_SCHEMA as ENT, type DirectoryUser, type ScimResource } from '../../../engine/types.ts';
import { makeLink, makeUser, testEnv } from '../mapping/fixtures.ts';
import { seededRandom } from '../../support/seeded-random.ts';

const GT = 'urn:ietf:params:scim:schemas:extension:grouptalk:2.0:User';

const mappings: MappingInput[] = [
  { target: 'userName', type: 'direct', source: 'userPrincipalName', matchingPrecedence: 1 },
  { target: 'active', type: 'direct', source: 'accountEnabled', targetType: 'Boolean' },
  { target: 'displayName', type: 'direct', source: 'displayName' },
  { target: 'title', type: 'direct', source: 'jobTitle' },
  { target: 'emails[type eq "work"].value', type: 'direct', source: 'mail' },
  { target: 'phoneNumbers[type eq "mobile"].value', type: 'direct', source: 'mobilePhone' },
  { target: 'phoneNumbers[type eq "work"].value', type: 'direct', source: 'telephoneNumber' },
  { target: 'addresses[type eq "work"].locality', type: 'direct', source: 'city' },
  { target: 'addresses[type eq "work"].country', type: 'direct', source: 'country' },
  { target: 'name.givenName', type: 'direct', source: 'givenName' },
  { target: 'name.familyName', type: 'direct', source: 'surname' },
  { target: 'externalId', type: 'direct', source: 'mailNickname' },
  { target: `${ENT}:department`, type: 'direct', source: 'department' },
  { target: `${ENT}:employeeNumber`, type: 'direct', source: 'employeeId' },
  { target: `${ENT}:manager`, type: 'direct', source: 'manager', targetType: 'Reference' },
  { target: `${GT}:label1`, type: 'direct', source: 'extensionAttribute1' },
  { target: `${GT}:label2`, type: 'direct', source: 'extensionAttribute2' },
  { target: 'password', type: 'constant', value: 'Initial#1', apply: 'create' },
];
const compiled = compileMappings(
  mappings.map((m) => mappingSchema.parse(m)),
  'user',
);

const SAMPLES = ['Alice', 'Åsa', 'José', '山田', 'O"Brien', 'back\\slash', 'a b', 'Zoë', 'x'];

function generator(random: () => number) {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const maybe = (value: string): string | null => {
    const r = random();
    return r < 0.2 ? null : r < 0.25 ? '' : value;
  };
  const text = () => `${pick(SAMPLES)}${Math.floor(random() * 3)}`;
  const user = (): DirectoryUser =>
    makeUser({
      userPrincipalName: `${text()}@contoso.com`,
      accountEnabled: random() < 0.8,
      displayName: maybe(text()),
      jobTitle: maybe(text()),
      mail: maybe(`${text()}@contoso.com`),
      mobilePhone: maybe(`+46 ${Math.floor(random() * 1000)}`),
      businessPhones: random() < 0.5 ? [] : [`+46 8 ${Math.floor(random() * 100)}`],
      city: maybe(text()),
      country: maybe(pick(['SE', 'NO', 'DK'])),
      givenName: maybe(text()),
      surname: maybe(text()),
      mailNickname: maybe(text()),
      department: maybe(text()),
      employeeId: maybe(String(Math.floor(random() * 100))),
      managerId: random() < 0.3 ? null : pick(['m1', 'm2', 'm3']),
      extensions: { extensionAttribute1: maybe(text()), extensionAttribute2: maybe(text()) },
    });
  const resolve = (id: string) => (id === 'm3' ? null : `target-${id}`);
  const desiredOf = (u: DirectoryUser) =>
    applyMappings(compiled, userSourceAttributes(u), { operation: 'update', env: testEnv, resolveReference: resolve });

  /** A target resource as a real server might hold it: another state plus noise Ferry does not map. */
  const current = (): ScimResource => {
    const base = structuredClone(
      applyMappings(compiled, userSourceAttributes(user()), {
        operation: 'create',
        env: testEnv,
        resolveReference: resolve,
      }).resource,
    ) as ScimResource;
    base.id = 't1';
    base.meta = { resourceType: 'User' };
    if (random() < 0.5) base.nickName = 'unmapped';
    if (random() < 0.3) delete base.emails;
    const emails = base.emails as Record<string, unknown>[] | undefined;
    if (emails && random() < 0.5) emails.push({ type: 'home', value: 'home@example.com' });
    if (emails && random() < 0.3) emails[0].primary = true;
    if (random() < 0.2) base.phoneNumbers = [{ type: 'work' }];
    if (random() < 0.2) delete base[ENT];
    const enterprise = base[ENT] as Record<string, unknown> | undefined;
    if (enterprise?.manager && random() < 0.5)
      enterprise.manager = { ...(enterprise.manager as object), $ref: '../Users/x', displayName: 'M' };
    if (random() < 0.2) delete base.name;
    return base;
  };
  return { user, desiredOf, current };
}

const unmappedKeys = (resource: ScimResource) => ({
  nickName: resource.nickName,
  password: resource.password,
  homeEmails: (resource.emails as Record<string, unknown>[] | undefined)?.filter((e) => e.type === 'home') ?? [],
});

describe('planner PATCH, applied by scim-patch', () => {
  it('yields exactly the desired mapped attributes over thousands of generated users', () => {
    const random = seededRandom(20240601);
    const gen = generator(random);
    let updates = 0;
    for (let i = 0; i < 3000; i++) {
      const desired = gen.desiredOf(gen.user());
      const target = gen.current();
      const plan = planObject({
        objectType: 'user',
        source: 'present',
        inScope: true,
        link: makeLink(),
        target,
        desired,
        settings: {
          actions: { create: true, update: true, disable: true, delete: true },
          skipOutOfScopeDeletions: false,
        },
      });
      expect(['Update', 'Skip']).toContain(plan.action);
      let patched = target;
      if (plan.action === 'Update') {
        updates++;
        patched = scimPatch(target as unknown as PatchLibResource, plan.operations as ScimPatchOperation[], {
          mutateDocument: false,
        }) as unknown as ScimResource;
      }
      for (const path of desired.managedPaths) {
        const parsed = parseScimPath(path);
        const got = getScimValue(patched, parsed);
        const want = getScimValue(desired.resource, parsed);
        if (!sameValue(got, want)) {
          throw new Error(
            `case ${i}: ${path} is ${JSON.stringify(got)}, want ${JSON.stringify(want)}; ops ${JSON.stringify(plan.operations)}`,
          );
        }
      }
      expect(unmappedKeys(patched)).toEqual(unmappedKeys(target));
      const again = planObject({
        objectType: 'user',
        source: 'present',
        inScope: true,
        link: makeLink(),
        target: patched,
        desired,
        settings: {
          actions: { create: true, update: true, disable: true, delete: true },
          skipOutOfScopeDeletions: false,
        },
      });
      expect(again.operations).toEqual([]);
    }
    // The generator must exercise updates, not only skips.
    expect(updates).toBeGreaterThan(2500);
  });
});
