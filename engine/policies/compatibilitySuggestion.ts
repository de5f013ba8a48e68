// Which compatibility profile a probed target needs, from what the probe saw. Pure: the probe (scim/)
// gathers the evidence, this decides, and nothing changes the app's profile but an operator.
import type { CompatibilityProfile } from '../types.ts';

/** What a probe learnt; `null` = not tried (a read-only probe, or an earlier step failed). */
export interface CompatibilityEvidence {
  /** `/ServiceProviderConfig` patch.supported; null without a usable document. */
  patchAdvertised: boolean | null;
  /** A standard PATCH (`op: "replace"`, a boolean where a boolean goes) was applied. */
  patchWorks: boolean | null;
  /** A value-path PATCH (`emails[type eq "work"].value`) was applied. */
  valuePathWorks: boolean | null;
  /** A PATCH spelt the pre-2018 Entra way (`op: "Replace"`) was applied. */
  capitalisedOpWorks: boolean | null;
  /** `active: "False"` (a string) was accepted. */
  stringBooleanWorks: boolean | null;
  /** A PUT of the whole user was applied. */
  putWorks: boolean | null;
  /** Users come back with `active` as a string ("True"/"False"), as apps built for Entra's pre-2018 PATCH keep it. */
  activeIsString: boolean | null;
}

export interface CompatibilitySuggestion {
  /** Null when no profile makes writes work (neither PATCH nor PUT), or nothing was learnt. */
  profile: CompatibilityProfile | null;
  /** `tested`: from writes the probe made; `advertised`: from what the target says or reads (confirm with a write probe). */
  basis: 'tested' | 'advertised';
  reason: string;
}

export function suggestCompatibilityProfile(e: CompatibilityEvidence): CompatibilitySuggestion {
  const tested = e.patchWorks !== null;
  if (tested) {
    if (e.patchWorks && e.valuePathWorks !== false) {
      return { profile: 'strict', basis: 'tested', reason: 'The target applies standard PATCH requests' };
    }
    if (!e.patchWorks && e.capitalisedOpWorks && e.stringBooleanWorks) {
      return {
        profile: 'entra-2017',
        basis: 'tested',
        reason: 'The target refuses standard PATCH but applies the pre-2018 Entra spelling ("Replace", "False")',
      };
    }
    if (e.putWorks === false) {
      return {
        profile: null,
        basis: 'tested',
        reason: e.patchWorks
          ? 'The target refuses value-path PATCH and PUT: attributes with a value filter cannot be updated'
          : 'The target refuses both PATCH and PUT: Ferry cannot update users there',
      };
    }
    return {
      profile: 'put-only',
      basis: 'tested',
      reason: e.patchWorks
        ? 'The target refuses value-path PATCH; put-only applies changes locally and sends the whole user'
        : 'The target refuses PATCH but applies PUT',
    };
  }
  if (e.patchAdvertised === false) {
    return {
      profile: 'put-only',
      basis: 'advertised',
      reason: 'The target says it does not support PATCH (ServiceProviderConfig)',
    };
  }
  if (e.activeIsString) {
    return {
      profile: 'entra-2017',
      basis: 'advertised',
      reason: 'The target returns active as a string, like apps built for Entra before 2018; a write probe confirms',
    };
  }
  return {
    profile: 'strict',
    basis: 'advertised',
    reason:
      e.patchAdvertised === null
        ? 'Nothing suggests a deviation (no ServiceProviderConfig); a write probe confirms'
        : 'The target says it supports PATCH; a write probe confirms',
  };
}
