/**
 * One quick look at Redis before a command relies on it: BullMQ would wait
 * for an unreachable server forever, where a person wants to hear why at once.
 */
import { Redis } from 'ioredis';
import type { QueueLocation } from './redisUrl.js';

/** Undefined when Redis answers PING, else what went wrong (never the password). */
export async function probeRedis(location: QueueLocation, timeoutMs = 3000): Promise<string | undefined> {
  const client = new Redis(location.connection.url, { tls: location.tls, lazyConnect: true, connectTimeout: timeoutMs, disconnectTimeout: 100, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  // connect() rejects with "Connection is closed."; the cause (ECONNREFUSED, a refused login) comes as an event.
  let cause: unknown;
  client.on('error', (err) => (cause ??= err));
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (err) {
    return `cannot reach Redis at ${location.label}: ${describeRedisError(cause ?? err)}`;
  } finally {
    client.disconnect();
  }
}

export function describeRedisError(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { errors?: Error[] };
  const message = e.errors?.[0]?.message ?? e.message ?? String(err);
  if (/ECONNREFUSED/.test(message)) return `nothing listens there (${message}); start Redis or fix the --queue URL`;
  if (/NOAUTH|WRONGPASS|invalid password|invalid username-password/i.test(message)) return `Redis refused the login (${message}); put the password in the URL: redis://:PASSWORD@host:6379`;
  return message;
}
