// The errors of @holdfast/runtime: coded and serialisable, as core's are.
import { HoldfastError } from '@holdfast/core';

/** The codes of @holdfast/runtime's own errors. */
export const RuntimeErrorCode = {
  /** A flag, environment variable or service setting that failed its check (nothing was started). */
  INVALID_SETTING: 'INVALID_SETTING',
  /** The debug socket's directory is not a private directory of this user's (a link, a file, another user's). */
  UNSAFE_SOCKET_DIR: 'UNSAFE_SOCKET_DIR',
  /** `holdfast repl` found no service to attach to, or several. */
  NO_SERVICE: 'NO_SERVICE',
} as const;
export type RuntimeErrorCode = (typeof RuntimeErrorCode)[keyof typeof RuntimeErrorCode];

/** A setting that failed its check: one line that names it. */
export class SettingsError extends HoldfastError<'INVALID_SETTING', undefined> {
  constructor(message: string) {
    super(RuntimeErrorCode.INVALID_SETTING, message, undefined);
  }
  override get name() {
    return 'SettingsError';
  }
}

/** Another failure of the runtime, with its code. */
export class RuntimeError<D = Record<string, unknown>> extends HoldfastError<RuntimeErrorCode, D> {
  constructor(code: RuntimeErrorCode, message: string, details: D) {
    super(code, message, details);
  }
  override get name() {
    return 'RuntimeError';
  }
}
