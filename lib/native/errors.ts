/** An error with a stable machine-readable code (`ERR_*`). Messages never include user text. */
export class MfnerError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = code === 'ERR_ABORTED' ? 'AbortError' : 'MfnerError';
  }
}

/** Native errors carry `code`; re-raise them as MfnerError so callers see one type. */
export function asMfnerError(err: unknown): MfnerError {
  if (err instanceof MfnerError) return err;
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' && e.code.startsWith('ERR_') ? e.code : 'ERR_NATIVE';
  return new MfnerError(code, typeof e?.message === 'string' ? e.message : String(err), { cause: err });
}

export async function nativeCall<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw asMfnerError(err);
  }
}

export function nativeCallSync<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw asMfnerError(err);
  }
}
