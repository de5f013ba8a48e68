// A bare gRPC client for protocol-level tests (raw polls, TestService) that the SDK does not expose.
import { credentials, makeGenericClientConstructor, type Client, type ServiceError } from '@grpc/grpc-js';
import { serviceDefinition } from '../../dev/temporal-service/server.ts';
import type { Msg } from '../../dev/temporal-service/proto.ts';

export interface RawClient {
  call(method: string, request: Msg): Promise<Msg>;
  close(): void;
}

export function rawClient(address: string, service = 'temporal.api.workflowservice.v1.WorkflowService'): RawClient {
  const Constructor = makeGenericClientConstructor(serviceDefinition(service), service);
  const client = new Constructor(address, credentials.createInsecure()) as Client & Record<string, unknown>;
  return {
    call: (method, request) =>
      new Promise((resolve, reject) => {
        const fn = client[method] as (req: Msg, cb: (error: ServiceError | null, response: Msg) => void) => void;
        fn.call(client, request, (error, response) => (error ? reject(error) : resolve(response)));
      }),
    close: () => client.close(),
  };
}
