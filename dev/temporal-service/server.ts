// gRPC wiring: service definitions built from the protobufjs root, handlers by method name, and
// UNIMPLEMENTED (logged once per method) for everything else.
import {
  Server,
  ServerCredentials,
  status,
  type MethodDefinition,
  type ServerUnaryCall,
  type sendUnaryData,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { RpcError } from './errors.ts';
import { decodeOptions, root, type Msg } from './proto.ts';
import type { Handler } from './workflow-service.ts';

export function serviceDefinition(serviceName: string): ServiceDefinition {
  const service = root.lookupService(serviceName);
  const definition: Record<string, MethodDefinition<Msg, Msg>> = {};
  for (const method of Object.values(service.methods)) {
    method.resolve();
    const RequestType = method.resolvedRequestType;
    const ResponseType = method.resolvedResponseType;
    if (!RequestType || !ResponseType) throw new Error(`cannot resolve ${serviceName}.${method.name}`);
    definition[method.name] = {
      path: `/${serviceName}/${method.name}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: (value: Msg) => Buffer.from(RequestType.encode(RequestType.fromObject(value)).finish()),
      requestDeserialize: (bytes: Buffer) => RequestType.toObject(RequestType.decode(bytes), decodeOptions),
      responseSerialize: (value: Msg) => Buffer.from(ResponseType.encode(ResponseType.fromObject(value)).finish()),
      responseDeserialize: (bytes: Buffer) => ResponseType.toObject(ResponseType.decode(bytes), decodeOptions),
    };
  }
  return definition;
}

const loggedUnimplemented = new Set<string>();

function implementation(
  serviceName: string,
  definition: ServiceDefinition,
  handlers: Record<string, Handler>,
  onError: (method: string, error: unknown) => void,
  apiKey: string | undefined,
): UntypedServiceImplementation {
  const result: UntypedServiceImplementation = {};
  for (const name of Object.keys(definition)) {
    const handler = handlers[name];
    result[name] = (call: ServerUnaryCall<Msg, Msg>, callback: sendUnaryData<Msg>) => {
      if (apiKey !== undefined && call.metadata.get('authorization')[0] !== `Bearer ${apiKey}`) {
        callback({ code: status.UNAUTHENTICATED, details: 'Request unauthorized: missing or wrong API key' });
        return;
      }
      if (!handler) {
        if (!loggedUnimplemented.has(name)) {
          loggedUnimplemented.add(name);
          console.warn(`[temporal-service] ${serviceName}.${name} is not implemented (answering UNIMPLEMENTED)`);
        }
        callback({ code: status.UNIMPLEMENTED, details: `${name} is not implemented by the Ferry test service` });
        return;
      }
      const aborter = new AbortController();
      call.on('cancelled', () => aborter.abort());
      Promise.resolve()
        .then(() => handler(call.request, { signal: aborter.signal }))
        .then(
          (response) => callback(null, response),
          (error: unknown) => {
            if (error instanceof RpcError) {
              callback({ code: error.code, details: error.message, metadata: error.metadata });
              return;
            }
            onError(name, error);
            callback({ code: status.INTERNAL, details: error instanceof Error ? error.message : String(error) });
          },
        );
    };
  }
  return result;
}

export interface GrpcServices {
  workflowService: Record<string, Handler>;
  testService: Record<string, Handler>;
}

/** TLS for the listener (PEM text); with `clientCa`, clients must present a certificate it signed (mTLS). */
export interface ListenTls {
  key: string;
  cert: string;
  clientCa?: string;
}

export interface ListenOptions {
  tls?: ListenTls;
  /** Every call must carry `authorization: Bearer <apiKey>`, as Temporal Cloud asks. */
  apiKey?: string;
}

function credentials(tls: ListenTls | undefined): ServerCredentials {
  if (!tls) return ServerCredentials.createInsecure();
  return ServerCredentials.createSsl(
    tls.clientCa ? Buffer.from(tls.clientCa) : null,
    [{ private_key: Buffer.from(tls.key), cert_chain: Buffer.from(tls.cert) }],
    tls.clientCa !== undefined,
  );
}

export async function listen(
  port: number,
  services: GrpcServices,
  options: ListenOptions = {},
): Promise<{ server: Server; port: number }> {
  const server = new Server({ 'grpc.max_receive_message_length': 128 * 1024 * 1024 });
  const onError = (method: string, error: unknown): void => {
    console.error(`[temporal-service] ${method} failed:`, error);
  };
  for (const [name, handlers] of [
    ['temporal.api.workflowservice.v1.WorkflowService', services.workflowService],
    ['temporal.api.testservice.v1.TestService', services.testService],
  ] as const) {
    const definition = serviceDefinition(name);
    server.addService(definition, implementation(name, definition, handlers, onError, options.apiKey));
  }
  const boundPort = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${port}`, credentials(options.tls), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });
  return { server, port: boundPort };
}
