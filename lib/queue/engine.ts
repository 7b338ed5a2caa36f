/**
 * The job engine is BullMQ on Redis, loaded on first use: both packages are optional
 * dependencies, so the core install stays lean and `mfner extract` works without them.
 */
import { MfnerError } from '../native/errors.ts';

export const INSTALL_HINT = 'npm install bullmq ioredis';

export type BullMQ = typeof import('bullmq');
export type IORedis = typeof import('ioredis');

export interface Engine {
  bullmq: BullMQ;
  Redis: IORedis['Redis'];
}

let engine: Promise<Engine> | undefined;

function missing(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

/** BullMQ and ioredis, or ERR_QUEUE_UNAVAILABLE naming the install command. */
export function loadEngine(): Promise<Engine> {
  engine ??= (async () => {
    try {
      const [bullmq, ioredis] = await Promise.all([import('bullmq'), import('ioredis')]);
      return { bullmq, Redis: ioredis.Redis };
    } catch (err) {
      engine = undefined;
      if (missing(err)) {
        throw new MfnerError(
          'ERR_QUEUE_UNAVAILABLE',
          `mfner/queue needs the optional packages bullmq and ioredis, which are not installed; install them with \`${INSTALL_HINT}\``,
          { cause: err },
        );
      }
      throw err;
    }
  })();
  return engine;
}
