// What a gallery template declares about its target app. gallery/ holds the instances; the type lives
// here so the configuration check can use it without engine/ importing gallery/.
import type { ObjectType } from '../types.ts';
import type { ConnectorLimitations, MappingInput } from './schema.ts';

export interface TemplateObjectType {
  /** Default attribute mappings (from the app's provisioning tutorial). */
  mappings: MappingInput[];
  /** Target attributes the app can filter on, i.e. usable as matching attributes. */
  filterableAttributes: string[];
}

export interface AppTemplate {
  id: string;
  name: string;
  description: string;
  /** Tenant URL to prefill, when the app has a fixed one. */
  defaultTargetUrl?: string;
  supportsGroups: boolean;
  objectTypes: { user: TemplateObjectType; group?: TemplateObjectType };
  /** Default connector limitations; an app may configure them (e.g. its registered domains). */
  connectorLimitations: ConnectorLimitations;
  /** The limitations in words, for the console. */
  limitationNotes: string[];
}

export function templateObjectType(template: AppTemplate, objectType: ObjectType): TemplateObjectType | undefined {
  return template.objectTypes[objectType];
}
