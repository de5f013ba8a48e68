// What a gallery template declares about its target app. gallery/ holds the instances; the type lives
// here so the configuration check can use it without engine/ importing gallery/.
import type { ObjectType } from '../types.ts';
import type { AppConfigInput, ConnectorLimitations, MappingInput } from './schema.ts';

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

export interface AppFromTemplateOptions {
  name: string;
  target?: { url: string };
  auth: AppConfigInput['auth'];
  scope?: 'assigned' | 'all';
  notificationEmail?: string | null;
  connectorLimitations?: AppConfigInput['connectorLimitations'];
}

/** The configuration input of a new app created from a gallery template (validate it with parseAppConfig). */
export function appConfigFromTemplate(template: AppTemplate, options: AppFromTemplateOptions): AppConfigInput {
  const url = options.target?.url ?? template.defaultTargetUrl;
  if (url === undefined) throw new Error(`${template.name} has no default tenant URL; give target.url`);
  const group = template.objectTypes.group;
  return {
    templateId: template.id,
    name: options.name,
    target: { url },
    auth: options.auth,
    scope: options.scope ?? 'assigned',
    notificationEmail: options.notificationEmail ?? null,
    connectorLimitations: options.connectorLimitations ?? structuredClone(template.connectorLimitations),
    objectTypes: {
      user: { mappings: structuredClone(template.objectTypes.user.mappings) },
      ...(template.supportsGroups && group ? { group: { mappings: structuredClone(group.mappings) } } : {}),
    },
  };
}
