// A page of an initial cycle looks its objects up in the target's listing before they are exported:
// their match candidates come from the mappings of the matching attributes alone, and are the ones
// the whole create mapping gives (which the pipeline computes when it exports the object).
import { describe, expect, it } from 'vitest';
import { matchingMappings } from '../../activities/pipeline/match.ts';
import { mappingSchema } from '../../engine/config/index.ts';
import {
  applyMappings,
  compileMappings,
  groupSourceAttributes,
  userSourceAttributes,
  type CompiledMappings,
} from '../../engine/mapping/index.ts';
import { matchCandidates } from '../../engine/matching/index.ts';
import { galleryTemplates } from '../../gallery/index.ts';
import { makeGroup, makeUser, testEnv } from '../engine/mapping/fixtures.ts';

const user = makeUser({
  id: 'u1',
  userPrincipalName: 'ada@contoso.example',
  mail: 'ada.lovelace@contoso.example',
  mailNickname: 'ada',
  displayName: 'Ada Lovelace',
  givenName: 'Ada',
  surname: 'Lovelace',
  department: 'Engineering',
  jobTitle: 'Engineer',
  employeeId: '1815',
  managerId: 'u0',
});
const group = makeGroup({ id: 'g1', displayName: 'Engineers', mailNickname: 'engineers', description: 'All of them' });

function candidatesOf(compiled: CompiledMappings, type: 'user' | 'group') {
  const attributes = type === 'user' ? userSourceAttributes(user) : groupSourceAttributes(group);
  return matchCandidates(
    compiled,
    applyMappings(compiled, attributes, { operation: 'create', env: testEnv, resolveReference: () => 'manager-id' })
      .resource,
  );
}

describe('match candidates from the matching mappings alone', () => {
  for (const template of galleryTemplates) {
    for (const type of ['user', 'group'] as const) {
      const mappings = template.objectTypes[type]?.mappings;
      if (!mappings) continue;
      it(`${template.id} ${type}s: the same candidates as the whole create mapping`, () => {
        const compiled = compileMappings(
          mappings.map((m) => mappingSchema.parse(m)),
          type,
        );
        const whole = candidatesOf(compiled, type);
        expect(whole.length).toBeGreaterThan(0);
        expect(candidatesOf(matchingMappings(compiled), type)).toEqual(whole);
        expect(matchingMappings(compiled).mappings.length).toBeLessThanOrEqual(compiled.mappings.length);
      });
    }
  }

  it('a later mapping to a matching attribute still decides its value, and the others are left out', () => {
    const compiled = compileMappings(
      [
        { target: 'userName', type: 'direct', source: 'userPrincipalName', matchingPrecedence: 1 },
        { target: 'displayName', type: 'direct', source: 'displayName' },
        { target: 'userName', type: 'direct', source: 'mail' },
        { target: 'emails[type eq "work"].value', type: 'direct', source: 'mail', matchingPrecedence: 2 },
        { target: 'emails[type eq "home"].value', type: 'direct', source: 'userPrincipalName' },
      ].map((m) => mappingSchema.parse(m)),
      'user',
    );
    const only = matchingMappings(compiled);
    expect(only.mappings.map((m) => m.target)).toEqual([
      'userName',
      'userName',
      'emails[type eq "work"].value',
      'emails[type eq "home"].value',
    ]);
    expect(candidatesOf(only, 'user').map((c) => c.filter)).toEqual([
      'userName eq "ada.lovelace@contoso.example"',
      'emails[type eq "work" and value eq "ada.lovelace@contoso.example"]',
    ]);
    expect(candidatesOf(only, 'user')).toEqual(candidatesOf(compiled, 'user'));
  });
});
