// Where Ferry finds the Temporal CLI whose `server start-dev` is a real, durable Temporal server.
// `npm run setup:temporal` builds the pinned version into the project's git-ignored tools folder;
// an operator may also put one on the PATH or name it with FERRY_TEMPORAL_CLI.
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The pinned CLI. From v1.6.0 on, its go.mod carries a `replace` directive that `go install`
 * refuses; v1.5.1 embeds Temporal server 1.29 and the Web UI.
 */
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
export const TEMPORAL_CLI_VERSION = 'v1.5.1';

/** The project's tools folder (git-ignored): `<repo>/.tools/bin`. */
export const TOOLS_BIN_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '.tools', 'bin');

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `command` in one of the PATH's folders, or null. */
export function onPath(command: string, searchPath = process.env.PATH ?? ''): string | null {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    if (executable(candidate)) return candidate;
  }
  return null;
}

/** FERRY_TEMPORAL_CLI=none: use no CLI (the in-repo test service, e.g. in tests that are about it). */
export const NO_TEMPORAL_CLI = 'none';

/**
 * The Temporal CLI to run: FERRY_TEMPORAL_CLI when set (and executable; `none` for no CLI), else
 * the one the setup script built into the tools folder, else `temporal` on the PATH; null when
 * there is none.
 */
export function findTemporalCli(env: NodeJS.ProcessEnv = process.env): string | null {
  const named = env.FERRY_TEMPORAL_CLI?.trim();
  if (named === NO_TEMPORAL_CLI) return null;
  if (named) return executable(named) ? named : null;
  const built = path.join(TOOLS_BIN_DIR, 'temporal');
  if (executable(built)) return built;
  return onPath('temporal', env.PATH ?? '');
}
