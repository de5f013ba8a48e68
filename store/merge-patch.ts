// JSON merge patch (RFC 7396) for the nested maps of directory objects (`extensions`): a key set
// to null is removed, an object merges into an object key by key, anything else replaces, and
// keys the patch does not name are kept.
export type JsonMap = Record<string, unknown>;

const isMap = (value: unknown): value is JsonMap =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isMap(patch)) return patch;
  const result: JsonMap = isMap(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/** The map after applying a merge patch to it (a map patch always gives a map). */
export const mergeMap = (target: JsonMap, patch: JsonMap): JsonMap => mergePatch(target, patch) as JsonMap;
