// gRPC errors with the status codes (and details) the SDK turns into typed errors.
import { Metadata, status } from '@grpc/grpc-js';
import { lookupType, type Msg } from './proto.ts';

export class RpcError extends Error {
  readonly code: status;
  readonly metadata: Metadata;

  constructor(code: status, message: string, detail?: { type: string; value: Msg }) {
    super(message);
    this.name = 'RpcError';
    this.code = code;
    this.metadata = new Metadata();
    if (detail) {
      // google.rpc.Status in `grpc-status-details-bin`, as the real server sends it.
      const DetailType = lookupType(detail.type);
      const StatusType = lookupType('google.rpc.Status');
      const value = DetailType.encode(DetailType.fromObject(detail.value)).finish();
      const statusMessage = StatusType.fromObject({
        code,
        message,
        details: [{ type_url: `type.googleapis.com/${detail.type}`, value }],
      });
      this.metadata.set('grpc-status-details-bin', Buffer.from(StatusType.encode(statusMessage).finish()));
    }
  }
}

export function notFound(message: string): RpcError {
  return new RpcError(status.NOT_FOUND, message, { type: 'temporal.api.errordetails.v1.NotFoundFailure', value: {} });
}

export function invalidArgument(message: string): RpcError {
  return new RpcError(status.INVALID_ARGUMENT, message);
}

export function alreadyStarted(message: string, startRequestId: string, runId: string): RpcError {
  return new RpcError(status.ALREADY_EXISTS, message, {
    type: 'temporal.api.errordetails.v1.WorkflowExecutionAlreadyStartedFailure',
    value: { startRequestId, runId },
  });
}

export function workflowNotFound(workflowId: string, runId?: string | null): RpcError {
  return notFound(`workflow execution not found: ${workflowId}${runId ? ` (run ${runId})` : ''}`);
}
