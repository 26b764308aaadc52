/**
 * The errors the emulator answers with, one class per gRPC status it uses.
 *
 * Each carries the gRPC `code`, the HTTP status and the canonical status name,
 * so the gRPC and REST front ends render the same condition the way Google's
 * clients expect it (`ServiceError.code` over gRPC, `{"error":{code,message,status}}`
 * over REST). `field` names the offending request field when there is one.
 */
import { status } from '@grpc/grpc-js';

/** Base of every error the API returns to a client. Branch on the subclass, not the message. */
export abstract class CloudTasksApiError extends Error {
  abstract readonly code: status;
  abstract readonly httpStatus: number;
  abstract readonly statusName: string;
  constructor(
    message: string,
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The request is malformed: a bad name, an out-of-range setting, a missing field. */
export class InvalidArgumentError extends CloudTasksApiError {
  override readonly name = 'InvalidArgumentError';
  readonly code = status.INVALID_ARGUMENT;
  readonly httpStatus = 400;
  readonly statusName = 'INVALID_ARGUMENT';
}

/** The queue or task does not exist (or a task has already run to completion). */
export class NotFoundError extends CloudTasksApiError {
  override readonly name = 'NotFoundError';
  readonly code = status.NOT_FOUND;
  readonly httpStatus = 404;
  readonly statusName = 'NOT_FOUND';
}

/** A queue or task with that name exists, or a task with that name ran or was deleted within the reuse window. */
export class AlreadyExistsError extends CloudTasksApiError {
  override readonly name = 'AlreadyExistsError';
  readonly code = status.ALREADY_EXISTS;
  readonly httpStatus = 409;
  readonly statusName = 'ALREADY_EXISTS';
}

/** The request is valid but the resource is in a state that forbids it. */
export class FailedPreconditionError extends CloudTasksApiError {
  override readonly name = 'FailedPreconditionError';
  readonly code = status.FAILED_PRECONDITION;
  readonly httpStatus = 400;
  readonly statusName = 'FAILED_PRECONDITION';
}

/** A method or URL the emulator does not implement. */
export class UnimplementedError extends CloudTasksApiError {
  override readonly name = 'UnimplementedError';
  readonly code = status.UNIMPLEMENTED;
  readonly httpStatus = 501;
  readonly statusName = 'UNIMPLEMENTED';
}

/** A bug in the emulator; reported as INTERNAL so clients do not retry forever on it. */
export class InternalError extends CloudTasksApiError {
  override readonly name = 'InternalError';
  readonly code = status.INTERNAL;
  readonly httpStatus = 500;
  readonly statusName = 'INTERNAL';
}

/** Wraps anything thrown by a handler into an API error (unknown errors become {@link InternalError}). */
export function asApiError(err: unknown): CloudTasksApiError {
  if (err instanceof CloudTasksApiError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new InternalError(`internal error: ${message}`, undefined, { cause: err });
}
