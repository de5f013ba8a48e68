// Which compatibility profile the probe's findings suggest: what was tested with writes decides over
// what the target advertises, and no profile is suggested when none would let Ferry update users.
import { describe, expect, it } from 'vitest';
import {
  suggestCompatibilityProfile,
  type CompatibilityEvidence,
} from '../../../engine/policies/compatibilitySuggestion.ts';

const untested: CompatibilityEvidence = {
  patchAdvertised: null,
  patchWorks: null,
  valuePathWorks: null,
  capitalisedOpWorks: null,
  stringBooleanWorks: null,
  putWorks: null,
  activeIsString: null,
};
const tested = (e: Partial<CompatibilityEvidence>): CompatibilityEvidence => ({
  ...untested,
  patchAdvertised: true,
  patchWorks: true,
  valuePathWorks: true,
  capitalisedOpWorks: true,
  stringBooleanWorks: false,
  putWorks: true,
  activeIsString: false,
  ...e,
});

describe('suggestCompatibilityProfile', () => {
  it.each<[string, CompatibilityEvidence, string | null, 'tested' | 'advertised']>([
    ['standard PATCH applied', tested({}), 'strict', 'tested'],
    [
      'standard PATCH applied although the target advertises none',
      tested({ patchAdvertised: false }),
      'strict',
      'tested',
    ],
    [
      'PATCH refused, PUT applied',
      tested({ patchWorks: false, valuePathWorks: false, capitalisedOpWorks: false }),
      'put-only',
      'tested',
    ],
    ['PATCH applied but value paths refused', tested({ valuePathWorks: false }), 'put-only', 'tested'],
    [
      'PATCH refused but PUT not tried',
      tested({ patchWorks: false, capitalisedOpWorks: false, putWorks: null }),
      'put-only',
      'tested',
    ],
    [
      'only the pre-2018 Entra spelling applied',
      tested({ patchWorks: false, valuePathWorks: false, capitalisedOpWorks: true, stringBooleanWorks: true }),
      'entra-2017',
      'tested',
    ],
    [
      '"Replace" applied but the string boolean refused: PUT',
      tested({ patchWorks: false, valuePathWorks: false, capitalisedOpWorks: true, stringBooleanWorks: false }),
      'put-only',
      'tested',
    ],
    [
      'PATCH and PUT refused',
      tested({ patchWorks: false, capitalisedOpWorks: false, putWorks: false }),
      null,
      'tested',
    ],
    ['value paths and PUT refused', tested({ valuePathWorks: false, putWorks: false }), null, 'tested'],
    [
      'read-only, PATCH advertised',
      { ...untested, patchAdvertised: true, activeIsString: false },
      'strict',
      'advertised',
    ],
    ['read-only, PATCH not advertised', { ...untested, patchAdvertised: false }, 'put-only', 'advertised'],
    ['read-only, no ServiceProviderConfig', untested, 'strict', 'advertised'],
    [
      'read-only, active kept as a string',
      { ...untested, patchAdvertised: true, activeIsString: true },
      'entra-2017',
      'advertised',
    ],
  ])('%s', (_name, evidence, profile, basis) => {
    const suggestion = suggestCompatibilityProfile(evidence);
    expect(suggestion.profile).toBe(profile);
    expect(suggestion.basis).toBe(basis);
    expect(suggestion.reason.length).toBeGreaterThan(0);
  });
});
