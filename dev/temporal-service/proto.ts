// The protobufjs root shipped in @temporalio/proto (it ships no .proto files) and the helpers the
// service uses to speak its messages as plain objects.
import protoRoot from '@temporalio/proto';
import type { Root, Type } from 'protobufjs';

export const root = protoRoot as unknown as Root;

/**
 * A protobuf message as a plain object (decoded with `longs: Number, enums: String`). The Temporal
 * API has hundreds of message types and the service forwards most fields untouched, so messages are
 * typed loosely on purpose; the generated `I…` interfaces type 64-bit fields as `Long` only.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see the comment above
export type Msg = Record<string, any>;

export const decodeOptions = { longs: Number, enums: String, defaults: false } as const;

export function lookupType(name: string): Type {
  return root.lookupType(name);
}

/** Milliseconds → google.protobuf.Timestamp / Duration. */
export function toTimestamp(ms: number): Msg {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}
export const toDuration = toTimestamp;

/** google.protobuf.Duration / Timestamp → milliseconds (undefined when absent or zero). */
export function durationMs(value: Msg | null | undefined): number | undefined {
  if (!value) return undefined;
  const ms = Number(value.seconds ?? 0) * 1000 + Math.round(Number(value.nanos ?? 0) / 1e6);
  return ms > 0 ? ms : undefined;
}
export const timestampMs = durationMs;

/** Decodes a json/plain payload (search attributes, memo) for comparisons; undefined if not JSON. */
export function payloadValue(payload: Msg | undefined): unknown {
  const data = payload?.data;
  if (!data) return undefined;
  try {
    return JSON.parse(Buffer.from(data).toString('utf8'));
  } catch {
    return undefined;
  }
}

/** `WorkflowExecutionStarted` → `EVENT_TYPE_WORKFLOW_EXECUTION_STARTED`. */
export function eventTypeEnum(type: string): string {
  return 'EVENT_TYPE_' + type.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
}

/** `WorkflowExecutionStarted` → `workflowExecutionStartedEventAttributes`. */
export function eventAttributesField(type: string): string {
  return type[0].toLowerCase() + type.slice(1) + 'EventAttributes';
}
