// The errors of @holdfast/repl: coded and serialisable, as core's are.
import { HoldfastError } from '@holdfast/core';

/** An error the service answered with: its code (a Holdfast code or a protocol one), message and details. */
export class RemoteError extends HoldfastError<string, unknown> {
  constructor(code: string, message: string, details?: unknown) {
    super(code, message, details);
  }
  override get name() {
    return 'RemoteError';
  }
}

/** The codes of the client's own errors. */
export const ClientErrorCode = {
  /** The connection to the service is closed (or was never made). */
  NOT_CONNECTED: 'NOT_CONNECTED',
  /** A command line the REPL cannot read (an unknown command, bad JSON, a missing argument). */
  USAGE: 'USAGE',
  /** The service answered with something the protocol's schemas do not allow. */
  BAD_RESPONSE: 'BAD_RESPONSE',
} as const;
export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

/** A failure on the client's side. */
export class ClientError extends HoldfastError<ClientErrorCode, undefined> {
  constructor(code: ClientErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, undefined, options);
  }
  override get name() {
    return 'ClientError';
  }
}
