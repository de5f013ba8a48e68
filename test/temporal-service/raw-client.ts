// A bare gRPC client for protocol-level tests (raw polls, TestService) that the SDK does not expose.
import {
  credentials,
  makeGenericClientConstructor,
  type CallOptions,
  type Client,
  type ServiceError,
} from '@grpc/grpc-js';
import { serviceDefinition } from '../../dev/temporal-service/server.ts';
import type { Msg } from '../../dev/temporal-service/proto.ts';

export interface RawClient {
  /** `deadlineMs`: a deadline for the call (the real server refuses long polls without one). */
  call(method: string, request: Msg, options?: { deadlineMs?: number }): Promise<Msg>;
  close(): void;
}

export function rawClient(address: string, service = 'temporal.api.workflowservice.v1.WorkflowService'): RawClient {
  const Constructor = makeGenericClientConstructor(serviceDefinition(service), service);
  const client = new Constructor(address, credentials.createInsecure()) as Client & Record<string, unknown>;
  return {
    call: (method, request, options = {}) =>
      new Promise((resolve, reject) => {
        const fn = client[method] as (
          req: Msg,
          callOptions: CallOptions,
          cb: (error: ServiceError | null, response: Msg) => void,
        ) => void;
        const callOptions: CallOptions = options.deadlineMs ? { deadline: Date.now() + options.deadlineMs } : {};
        fn.call(client, request, callOptions, (error, response) => (error ? reject(error) : resolve(response)));
      }),
    close: () => client.close(),
  };
}
