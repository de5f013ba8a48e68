import { describe, expect, it } from 'vitest';
import { appConfigFromTemplate, checkConnectorLimitations, parseAppConfig } from '../../../engine/config/index.ts';
import { applyMappings, userSourceAttributes, groupSourceAttributes } from '../../../engine/mapping/index.ts';
import { SCIM_ENTERPRISE_USER_SCHEMA } from '../../../engine/types.ts';
import {
  findTemplate,
  galleryTemplates,
  genericScimTemplate,
  groupTalkTemplate,
  ipassSmartConnectTemplate,
  mediusFlowTemplate,
} from '../../../gallery/index.ts';
import { GROUPTALK_GROUP, GROUPTALK_USER } from '../../../gallery/grouptalk.ts';
import { makeGroup, makeUser, testEnv } from '../mapping/fixtures.ts';

const auth = { type: 'bearer' as const, token: 'secret' };

function parsed(template = genericScimTemplate, extra: Partial<Parameters<typeof appConfigFromTemplate>[1]> = {}) {
  const input = appConfigFromTemplate(template, {
    name: template.name,
    target: { url: 'https://scim.example.com/v2' },
    auth,
    ...extra,
  });
  const result = parseAppConfig(input, template);
  if (!result.ok) throw new Error(result.errors.map((e) => `${e.path}: ${e.message}`).join('\n'));
  return result;
}

describe('gallery', () => {
  it('lists the four templates with unique ids', () => {
    expect(galleryTemplates.map((t) => t.id)).toEqual([
      'generic-scim',
      'ipass-smartconnect',
      'mediusflow',
      'grouptalk',
    ]);
    expect(findTemplate('grouptalk')).toBe(groupTalkTemplate);
    expect(findTemplate('nope')).toBeUndefined();
  });

  it.each(galleryTemplates.map((t) => [t.id, t] as const))(
    '%s validates against the configuration schema',
    (_id, template) => {
      const result = parsed(template);
      expect(result.config.templateId).toBe(template.id);
      expect(result.compiled.user.matching.length).toBeGreaterThan(0);
      expect(result.compiled.group !== null).toBe(template.supportsGroups);
      for (const m of result.compiled.user.matching) {
        expect(template.objectTypes.user.filterableAttributes).toContain(m.mapping.target);
      }
    },
  );

  it('prefills the tenant URL of apps that have a fixed one', () => {
    const input = appConfigFromTemplate(groupTalkTemplate, { name: 'GT', auth });
    expect(input.target.url).toBe('https://api.grouptalk.com/api/scim/');
    expect(() => appConfigFromTemplate(mediusFlowTemplate, { name: 'MF', auth })).toThrow(/tenant URL/);
  });

  it('maps a GroupTalk user: mobile phone, cost center, organization and the five labels', () => {
    const { compiled } = parsed(groupTalkTemplate);
    const user = makeUser({
      companyName: 'Contoso',
      extensions: { extension_costCenter: 'CC-1', extensionAttribute1: 'L1', extensionAttribute5: 'L5' },
    });
    const { resource } = applyMappings(compiled.user, userSourceAttributes(user), {
      operation: 'create',
      env: testEnv,
    });
    expect(resource.phoneNumbers).toEqual([{ type: 'mobile', value: '+46 70 123 45 67' }]);
    expect(resource[SCIM_ENTERPRISE_USER_SCHEMA]).toEqual({ costCenter: 'CC-1', organization: 'Contoso' });
    expect(resource[GROUPTALK_USER]).toEqual({ label1: 'L1', label5: 'L5' });
    expect(resource.schemas).toContain(GROUPTALK_USER);
    expect(resource.active).toBe(true);
    expect(compiled.user.mappings.filter((m) => m.path.urn === GROUPTALK_USER).map((m) => m.path.attribute)).toEqual([
      'label1',
      'label2',
      'label3',
      'label4',
      'label5',
    ]);
  });

  it('maps a GroupTalk group description into its extension and reconciles members separately', () => {
    const { compiled } = parsed(groupTalkTemplate);
    const group = compiled.group;
    if (!group) throw new Error('GroupTalk supports groups');
    const { resource } = applyMappings(group, groupSourceAttributes(makeGroup()), {
      operation: 'create',
      env: testEnv,
    });
    expect(resource).toEqual({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group', GROUPTALK_GROUP],
      displayName: 'Sales',
      externalId: 'g1',
      [GROUPTALK_GROUP]: { description: 'Sales team' },
    });
    expect(group.membersMapping?.target).toBe('members');
  });

  it('maps a MediusFlow user with name.formatted and the manager reference', () => {
    const { compiled } = parsed(mediusFlowTemplate);
    const user = makeUser({ managerId: 'boss' });
    const result = applyMappings(compiled.user, userSourceAttributes(user), {
      operation: 'create',
      env: testEnv,
      resolveReference: (id) => (id === 'boss' ? 'target-boss' : null),
    });
    expect(result.resource.name).toEqual({
      displayName: 'Alice Adams',
      givenName: 'Alice',
      familyName: 'Adams',
      formatted: 'Alice Adams',
    });
    expect(result.resource[SCIM_ENTERPRISE_USER_SCHEMA]).toEqual({ manager: { value: 'target-boss' } });
  });

  it('marks a soft-deleted user inactive (Entra default for active)', () => {
    const { compiled } = parsed(genericScimTemplate);
    const user = makeUser({ deletedDateTime: '2024-01-01T00:00:00Z' });
    expect(
      applyMappings(compiled.user, userSourceAttributes(user), { operation: 'update', env: testEnv }).resource.active,
    ).toBe(false);
  });

  describe('iPass SmartConnect registered domains', () => {
    const { config } = parsed(ipassSmartConnectTemplate, {
      connectorLimitations: { allowedUsernameDomains: ['contoso.com'] },
    });

    it.each([
      ['alice@contoso.com', true],
      ['alice@CONTOSO.com', true],
      ['alice@fabrikam.com', false],
      ['alice@sub.contoso.com', false],
      ['no-domain', false],
    ])('%s accepted: %s', (userName, accepted) => {
      const check = checkConnectorLimitations(config, { schemas: [], userName });
      expect(check.ok).toBe(accepted);
      if (!check.ok) expect(check).toMatchObject({ skip: true, code: 'InvalidDomain' });
    });

    it('accepts every user name when no domain list is configured', () => {
      expect(
        checkConnectorLimitations(parsed(ipassSmartConnectTemplate).config, { schemas: [], userName: 'x@any.org' }),
      ).toEqual({ ok: true });
    });
  });
});
