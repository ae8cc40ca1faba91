/**
 * A cap on runs against one database server at once, whichever workers hold
 * them (`dbferry worker --per-server N`): two hundred refreshes do not open
 * two hundred connections to one production server.
 *
 * Each server (engine, host, port) has a sorted set in Redis of the runs (run
 * id and worker) that hold a slot on it, scored by when their lease ends. A run takes a slot on
 * every server it touches at once, or none (one Lua script: no two runs each
 * holding one of the other's servers), renews its leases while it runs, and
 * gives them back at its end. A worker that dies stops renewing: its slots
 * free themselves when the lease runs out.
 */
import { Redis } from 'ioredis';
import { parseConnectionUrl } from '../../shared/connectionUrl.js';
import type { JobSpec } from '../../shared/jobSpec.js';
import type { QueueLocation } from './redisUrl.js';

const TAKE = `
local now, expiry, cap, holder = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), ARGV[4]
for _, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  if not redis.call('ZSCORE', key, holder) and redis.call('ZCARD', key) >= cap then return 0 end
end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, expiry, holder)
  redis.call('PEXPIREAT', key, expiry)
end
return 1`;

/** The servers a run connects to, as `engine://host:port` (SQLite files are no server). */
export function serversOf(spec: JobSpec): string[] {
  const out = new Set<string>();
  for (const url of [spec.source.url, spec.target.url]) {
    try {
      const info = parseConnectionUrl(url);
      if (info.engine !== 'sqlite') out.add(`${info.engine}://${info.host}:${info.port}`);
    } catch {
      // the run reports a bad URL itself
    }
  }
  return [...out].sort();
}

export class ServerSlots {
  private readonly redis: Redis;

  constructor(
    location: QueueLocation,
    private readonly perServer: number,
    private readonly leaseMs: number,
  ) {
    this.redis = new Redis(location.connection.url, { tls: location.tls, maxRetriesPerRequest: null, retryStrategy: (times: number) => Math.min(times * 250, 5000) });
    this.redis.on('error', () => undefined); // the worker's BullMQ connection reports Redis trouble
    this.prefix = `${location.prefix}:servers:`;
  }

  private readonly prefix: string;

  /** Take a slot on every server, or none: false when one of them is at its cap. */
  async take(holder: string, servers: string[]): Promise<boolean> {
    if (servers.length === 0) return true;
    const now = Date.now();
    const took = await this.redis.eval(TAKE, servers.length, ...servers.map((s) => this.prefix + s), now, now + this.leaseMs, this.perServer, holder);
    return took === 1;
  }

  /** Keep the slots while the run goes on; returns the function that gives them back. */
  hold(holder: string, servers: string[]): () => Promise<void> {
    const renew = setInterval(() => {
      const expiry = Date.now() + this.leaseMs;
      for (const s of servers) void this.redis.zadd(this.prefix + s, 'XX', expiry, holder).catch(() => undefined);
    }, Math.max(250, this.leaseMs / 3));
    return async () => {
      clearInterval(renew);
      await Promise.all(servers.map((s) => this.redis.zrem(this.prefix + s, holder).catch(() => undefined)));
    };
  }

  close(): void {
    this.redis.disconnect();
  }
}
