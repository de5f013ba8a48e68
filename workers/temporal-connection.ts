// The one place Ferry connects to Temporal. `npm start`, the worker, the API process, the demo and
// the bench all go through it, so each gets the same TLS / mTLS settings, API key and payload codec
// from the environment (workers/env.ts): the Client and the Worker must encrypt and decrypt with the
// same keys, or one of them cannot read what the other wrote.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { fileURLToPath } from 'node:url';
import { checkServerIdentity as checkName, connect as tlsConnect } from 'node:tls';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import type { DataConverter, PayloadCodec } from '@temporalio/common';
import { NativeConnection, type NativeConnectionOptions, type TLSConfig } from '@temporalio/worker';
import { parseEncryptionKey } from '../store/crypto.ts';
import type { FerryEnv, TemporalTlsEnv } from './env.ts';
import { EncryptionCodec, payloadKeys } from './payload-codec.ts';

/** What a connection to Temporal needs: FerryEnv['temporal'] with the address settled. */
export interface TemporalSettings {
  address: string;
  namespace: string;
  tls: TemporalTlsEnv | null;
  apiKey: string | null;
}

/** A PEM given as a file path or as the PEM text itself (`\n` escapes allowed, for env files). */
function readPem(variable: string, value: string, kind: 'CERTIFICATE' | 'PRIVATE KEY'): Buffer {
  let text: string;
  if (value.startsWith('-----BEGIN')) {
    text = value.replace(/\\n/g, '\n');
  } else {
    try {
      text = readFileSync(value, 'utf8');
    } catch (error) {
      throw new Error(`${variable}: cannot read ${value} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  if (!new RegExp(`-----BEGIN [A-Z ]*${kind}-----`).test(text)) {
    throw new Error(`${variable}: ${value.startsWith('-----BEGIN') ? 'the value' : value} holds no PEM ${kind}`);
  }
  return Buffer.from(text, 'utf8');
}

/** The SDK's TLS options from the environment's (files read now; a bad one throws naming its variable). */
export function temporalTlsConfig(tls: TemporalTlsEnv): TLSConfig {
  const config: TLSConfig = {};
  if (tls.serverName) config.serverNameOverride = tls.serverName;
  if (tls.caFile) config.serverRootCACertificate = readPem('TEMPORAL_TLS_CA', tls.caFile, 'CERTIFICATE');
  if (tls.certFile && tls.keyFile) {
    config.clientCertPair = {
      crt: readPem('TEMPORAL_TLS_CERT', tls.certFile, 'CERTIFICATE'),
      key: readPem('TEMPORAL_TLS_KEY', tls.keyFile, 'PRIVATE KEY'),
    };
  }
  return config;
}

/** Options shared by the client's Connection and the worker's NativeConnection. */
export function temporalConnectionOptions(settings: TemporalSettings): {
  address: string;
  tls?: TLSConfig;
  apiKey?: string;
} {
  return {
    address: settings.address,
    ...(settings.tls ? { tls: temporalTlsConfig(settings.tls) } : {}),
    ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
  };
}

/**
 * The payload codec of the environment: FERRY_PAYLOAD_KEYS, then the key derived from the
 * encryption key (FERRY_ENCRYPTION_KEY, or the one `npm start` generated). Null only when there is
 * no key at all.
 */
export function payloadCodecFromEnv(
  env: Pick<FerryEnv, 'payloadKeys'>,
  encryptionKey: string | null,
): EncryptionCodec | null {
  const keys = payloadKeys(env.payloadKeys, encryptionKey ? parseEncryptionKey(encryptionKey) : null);
  return keys.length > 0 ? new EncryptionCodec(keys) : null;
}

/** workers/failure-converter.cjs: failure messages and stack traces become payloads the codec encrypts. */
export const failureConverterPath = fileURLToPath(new URL('./failure-converter.cjs', import.meta.url));

/**
 * The data converter of Ferry's Client and Worker: default JSON payloads, then the codec; with the
 * codec, failure messages and stack traces are encoded (and so encrypted) too.
 */
export function ferryDataConverter(codec: PayloadCodec | null): DataConverter {
  return codec ? { payloadCodecs: [codec], failureConverterPath } : {};
}

/** The message of an error and of its causes (the SDK wraps the gRPC status in a cause). */
function reasons(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error; e instanceof Error && parts.length < 4; e = e.cause) {
    if (!parts.some((p) => p.includes(e.message))) parts.push(e.message);
  }
  return parts.length > 0 ? parts.join(': ') : String(error);
}

/**
 * Why a TLS handshake with the server fails, from Node's own TLS client with the same settings (the
 * gRPC client only says it could not connect before its deadline); null when the handshake works.
 */
async function tlsHandshakeProblem(settings: TemporalSettings): Promise<string | null> {
  if (!settings.tls) return null;
  const tls = temporalTlsConfig(settings.tls);
  const separator = settings.address.lastIndexOf(':');
  const host = settings.address.slice(0, separator).replace(/^\[|\]$/g, '');
  const servername = tls.serverNameOverride ?? (isIP(host) ? undefined : host);
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host,
      port: Number(settings.address.slice(separator + 1)),
      servername,
      ca: tls.serverRootCACertificate ? Buffer.from(tls.serverRootCACertificate) : undefined,
      cert: tls.clientCertPair ? Buffer.from(tls.clientCertPair.crt) : undefined,
      key: tls.clientCertPair ? Buffer.from(tls.clientCertPair.key) : undefined,
      ALPNProtocols: ['h2'],
      // Node checks names against TEMPORAL_TLS_SERVER_NAME as the SDK does, also for an IP address.
      checkServerIdentity: (hostname, cert) => checkName(servername ?? hostname, cert),
    });
    const done = (problem: string | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(problem);
    };
    const timer = setTimeout(() => done(null), 3_000);
    socket.once('secureConnect', () => {
      // A server that wants a client certificate and got none closes right after the handshake.
      socket.once('error', (error) => done(`TLS: ${opensslReason(error.message)}`));
      socket.once('close', () => done(null));
      setTimeout(() => done(null), 300);
    });
    socket.once('error', (error) => done(`TLS handshake: ${opensslReason(error.message)}`));
  });
}

/** OpenSSL's alert name (e.g. "certificate required") instead of its whole error line. */
function opensslReason(message: string): string {
  const alert = /alert ([a-z ]+?)(?::|$)/.exec(message);
  return alert ? `the server answered "${alert[1]}"` : message.split('\n')[0];
}

async function connectError(settings: TemporalSettings, error: unknown): Promise<Error> {
  const how = [settings.tls ? 'TLS' : 'plain gRPC', settings.tls?.certFile ? 'a client certificate' : null]
    .filter(Boolean)
    .join(' with ');
  const handshake = await tlsHandshakeProblem(settings).catch(() => null);
  return new Error(
    `Cannot connect to Temporal at ${settings.address} (${how}; check TEMPORAL_ADDRESS and the TEMPORAL_TLS_* settings): ${reasons(error)}${handshake ? ` (${handshake})` : ''}`,
    { cause: error },
  );
}

/** The client side (API, npm start, demo, bench): a Connection and a Client using the codec. */
export async function connectTemporalClient(
  settings: TemporalSettings,
  codec: PayloadCodec | null,
  extra: Pick<ConnectionOptions, 'connectTimeout'> & {
    /** Carry the caller's trace into what the client starts, signals and updates (telemetry/tracing.ts). */
    traced?: boolean;
  } = {},
): Promise<{ connection: Connection; client: Client }> {
  const { traced, ...connectionExtra } = extra;
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...temporalConnectionOptions(settings), ...connectionExtra });
  } catch (error) {
    throw await connectError(settings, error);
  }
  const client = new Client({
    connection,
    namespace: settings.namespace,
    dataConverter: ferryDataConverter(codec),
    ...(traced ? { interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } } : {}),
  });
  return { connection, client };
}

/** The worker side: a NativeConnection (the codec goes to Worker.create, see createFerryWorker). */
export async function connectTemporalWorker(
  settings: TemporalSettings,
  extra: Pick<NativeConnectionOptions, 'metadata'> = {},
): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect({ ...temporalConnectionOptions(settings), ...extra });
  } catch (error) {
    throw await connectError(settings, error);
  }
}
