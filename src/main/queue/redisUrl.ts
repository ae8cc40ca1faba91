/**
 * The `--queue` URL: redis://[[user]:password@]host[:port][/db][?prefix=NAME],
 * or rediss:// for TLS. `prefix` namespaces every key dbferry's queue keeps
 * (default "dbferry"), so several fleets or test runs can share one Redis.
 * `ca=PATH` (rediss:// only) names a PEM file of the certificate authority
 * that signed the server's certificate, for a private CA; the system's CAs
 * (and NODE_EXTRA_CA_CERTS) are trusted without it.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ConnectionOptions } from 'bullmq';

export const QUEUE_NAME = 'runs';
const DEFAULT_PREFIX = 'dbferry';

export interface QueueLocation {
  /** For BullMQ: the URL without dbferry's own parameters. */
  connection: ConnectionOptions & { url: string };
  prefix: string;
  /** The URL with any password replaced: safe to print. */
  label: string;
  /** TLS options beyond the URL's (a private CA), for every Redis client dbferry opens. */
  tls?: { ca: Buffer };
}

export class QueueUrlError extends Error {}

export function parseQueueUrl(raw: string): QueueLocation {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new QueueUrlError(`"${redactRedisUrl(raw)}" is not a Redis URL (expected redis://host:6379[/db] or rediss:// for TLS)`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new QueueUrlError(`--queue takes a redis:// or rediss:// URL, not ${url.protocol}//… (e.g. redis://127.0.0.1:6379)`);
  }
  const db = url.pathname.replace(/^\//, '');
  if (db && !/^\d+$/.test(db)) throw new QueueUrlError(`the Redis database in ${redactRedisUrl(raw)} must be a number (redis://host:6379/0), not "${db}"`);
  const prefix = url.searchParams.get('prefix') ?? DEFAULT_PREFIX;
  if (!/^[A-Za-z0-9_.-]+$/.test(prefix)) throw new QueueUrlError(`the queue prefix "${prefix}" may hold only letters, digits, ".", "_" and "-"`);
  url.searchParams.delete('prefix');
  const caPath = url.searchParams.get('ca');
  url.searchParams.delete('ca');
  let tls: QueueLocation['tls'];
  if (caPath !== null) {
    if (url.protocol !== 'rediss:') throw new QueueUrlError(`?ca= names the certificate authority of a TLS connection: use rediss:// (${redactRedisUrl(raw)})`);
    try {
      tls = { ca: readFileSync(resolve(caPath)) };
    } catch (err) {
      throw new QueueUrlError(`cannot read the CA certificate "${caPath}" given by ?ca= in the --queue URL: ${(err as Error).message}`);
    }
  }
  return {
    tls,
    connection: {
      ...(tls ? { tls } : {}),
      url: url.toString(),
      // A worker's blocking connection must wait for Redis as long as it takes (BullMQ requires null here).
      maxRetriesPerRequest: null,
      // Reconnect on its own, backing off to 5 s between tries.
      retryStrategy: (times: number) => Math.min(times * 250, 5000),
    },
    prefix,
    label: redactRedisUrl(raw),
  };
}

/** The URL with any password replaced by ••••. */
export function redactRedisUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@?#]*):([^@/?#]*)@/i, '$1:••••@');
}
