// The gallery: app templates an admin creates apps from.
import type { AppTemplate } from '../engine/config/index.ts';
import { genericScimTemplate } from './generic-scim.ts';
import { groupTalkTemplate } from './grouptalk.ts';
import { ipassSmartConnectTemplate } from './ipass-smartconnect.ts';
import { mediusFlowTemplate } from './mediusflow.ts';

export { genericScimTemplate, groupTalkTemplate, ipassSmartConnectTemplate, mediusFlowTemplate };

export const galleryTemplates: readonly AppTemplate[] = [
  genericScimTemplate,
  ipassSmartConnectTemplate,
  mediusFlowTemplate,
  groupTalkTemplate,
];

export function findTemplate(id: string): AppTemplate | undefined {
  return galleryTemplates.find((template) => template.id === id);
}
