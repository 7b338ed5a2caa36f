/**
 * Connection options: `redis://[user:password@]host[:port][/db]`, or `rediss://…` for TLS.
 * The password can come from the environment (`MFNER_REDIS_PASSWORD`, not visible in `ps`)
 * instead of the URL; TLS takes a CA, a client certificate and key (mutual TLS), and a server
 * name. Printed URLs never show the password.
 */
import { readFileSync } from 'node:fs';
import type { RedisOptions } from 'ioredis';
import { MfnerError } from '../native/errors.ts';
import { loadEngine } from './engine.ts';

export const PASSWORD_ENV = 'MFNER_REDIS_PASSWORD';
export const DEFAULT_QUEUE_NAME = 'mfner';
/** BullMQ's key prefix; mfner's own keys live under `<prefix>:<name>:mfner:…`. */
export const KEY_PREFIX = 'mfner';

export interface ConnectionSpec {
  /** redis:// or rediss:// URL. */
  url: string;
  /** Overrides the URL's password (default: $MFNER_REDIS_PASSWORD when the URL has none). */
  password?: string;
  /** Force TLS (implied by rediss://). */
  tls?: boolean;
  /** PEM files. */
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  /** Name the server certificate must carry (default: the host). */
  tlsServerName?: string;
}

export interface QueueTarget {
  connection: ConnectionSpec;
  /** The BullMQ queue name (default `mfner`): one queue per model is the usual layout. */
  name?: string;
}

/** ioredis options from a spec (files are read here). */
export function redisOptions(spec: ConnectionSpec, env: NodeJS.ProcessEnv = process.env): RedisOptions {
  let u: URL;
  try {
    u = new URL(spec.url);
  } catch {
    throw new MfnerError('ERR_INVALID_ARG', `--queue must be a redis:// or rediss:// URL (got ${redactUrl(spec.url)})`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new MfnerError('ERR_INVALID_ARG', `--queue must be a redis:// or rediss:// URL (got ${u.protocol}//…)`);
  }
  const dbText = u.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0) throw new MfnerError('ERR_INVALID_ARG', `--queue: the database must be a number (got /${dbText})`);
  const options: RedisOptions = {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    db,
  };
  if (u.username) options.username = decodeURIComponent(u.username);
  const password = spec.password ?? (u.password ? decodeURIComponent(u.password) : env[PASSWORD_ENV] || undefined);
  if (password !== undefined) options.password = password;
  const tls = spec.tls || u.protocol === 'rediss:' || spec.tlsCa !== undefined || spec.tlsCert !== undefined;
  if (tls) {
    if ((spec.tlsCert === undefined) !== (spec.tlsKey === undefined)) throw new MfnerError('ERR_INVALID_ARG', '--tls-cert and --tls-key go together');
    options.tls = {
      ...(spec.tlsCa ? { ca: readFileSync(spec.tlsCa) } : {}),
      ...(spec.tlsCert ? { cert: readFileSync(spec.tlsCert) } : {}),
      ...(spec.tlsKey ? { key: readFileSync(spec.tlsKey) } : {}),
      servername: spec.tlsServerName ?? options.host,
    };
  }
  return options;
}

/** The URL with any password replaced by `***`. */
export function redactUrl(url: string): string {
  return url.replace(/^(rediss?:\/\/[^:/@]*:)[^@]*@/i, '$1***@');
}

/**
 * A plain client for mfner's own keys (run manifests, the done set). Fails fast with a clear
 * error when Redis cannot be reached or refuses the password.
 */
export async function connect(spec: ConnectionSpec): Promise<import('ioredis').Redis> {
  const { Redis } = await loadEngine();
  const options = redisOptions(spec);
  const client = new Redis({ ...options, lazyConnect: true, connectTimeout: 5000, maxRetriesPerRequest: 1, retryStrategy: () => null });
  let lastError: unknown;
  client.on('error', (err) => (lastError = err)); // reported by connect() below
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    client.disconnect();
    // A refused password closes the connection; the reason is in the error event.
    const cause = lastError ?? err;
    const what = [(lastError as Error | undefined)?.message, (err as Error).message].filter(Boolean).join('; ') || String(err);
    const auth = /NOAUTH|WRONGPASS|invalid password|AUTH/i.test(what);
    throw new MfnerError(
      auth ? 'ERR_QUEUE_AUTH' : 'ERR_QUEUE_UNREACHABLE',
      auth
        ? `Redis at ${options.host}:${options.port} refused the credentials (${what.split('\n')[0]}); give the password in the URL or $${PASSWORD_ENV}`
        : `cannot reach Redis at ${options.host}:${options.port}${options.tls ? ' (TLS)' : ''}: ${what.split('\n')[0]}`,
      { cause },
    );
  }
  return client;
}

/** mfner's own keys for a queue. */
export function keys(name: string) {
  const base = `${KEY_PREFIX}:${name}:mfner`;
  return {
    /** Hash: job id → number of records of its result (written when its result file is in place). */
    done: `${base}:done`,
    run: (id: string) => `${base}:run:${id}`,
    /** List of JSON batch entries, in input order. */
    batches: (id: string) => `${base}:run:${id}:batches`,
    runs: `${base}:runs`,
    temp: (token: string) => `${base}:tmp:${token}`,
  };
}

/** The same options, typed for BullMQ (its Queue and Worker open their own connections). */
export function bullConnection(spec: ConnectionSpec, extra: Record<string, unknown> = {}): import('bullmq').RedisOptions {
  return { ...(redisOptions(spec) as Record<string, unknown>), ...extra } as import('bullmq').RedisOptions;
}
