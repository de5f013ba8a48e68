// What the target says it supports (`/ServiceProviderConfig`), read once per client. A missing or
// unreadable document means Entra's assumptions: PATCH and filtering yes, bulk no.
import { ConfigurationError, TransientError } from '../engine/errors.ts';
import type { ClientLog, Send } from './exchange.ts';
import { type ServiceProviderConfig, serviceProviderConfigSchema } from './schemas.ts';

/** The target's capabilities, read at the first call and kept; a transient or 401 failure is not kept. */
export function createDiscovery(send: Send, log: ClientLog): () => Promise<ServiceProviderConfig> {
  let discovery: Promise<ServiceProviderConfig> | undefined;

  async function read(): Promise<ServiceProviderConfig> {
    try {
      const { body } = await send({ method: 'GET', path: '/ServiceProviderConfig', retry: 'safe' });
      const parsed = serviceProviderConfigSchema.safeParse(body);
      if (parsed.success) {
        const config = parsed.data;
        return {
          patch: config.patch?.supported ?? true,
          bulk: {
            supported: config.bulk?.supported ?? false,
            maxOperations: config.bulk?.maxOperations,
            maxPayloadSize: config.bulk?.maxPayloadSize,
          },
          filter: { supported: config.filter?.supported ?? true, maxResults: config.filter?.maxResults },
          etag: config.etag?.supported ?? false,
          discovered: true,
        };
      }
    } catch (error) {
      if (error instanceof TransientError || (error instanceof ConfigurationError && error.code === 'Unauthorized')) {
        discovery = undefined;
        throw error;
      }
    }
    // Many targets have no (or a broken) /ServiceProviderConfig; assume what Entra assumes.
    log({ type: 'warning', message: 'No usable /ServiceProviderConfig; assuming PATCH and filtering, no bulk' });
    return { patch: true, bulk: { supported: false }, filter: { supported: true }, etag: false, discovered: false };
  }

  return async () => {
    discovery ??= read();
    return discovery;
  };
}
