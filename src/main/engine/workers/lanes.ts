/**
 * How many lanes a run gets, of which kind, and how they all come to read one
 * point in time of the source. Lanes stage and verify; the main thread plans,
 * applies and records.
 *
 * Several lanes need a source whose snapshot other sessions can share
 * (PostgreSQL: exported and imported; MySQL/MariaDB: consistent snapshots
 * started while the main session holds writes back with FLUSH TABLES WITH READ
 * LOCK; SQLite with a rollback journal: lanes begin their read transactions
 * while the main session's shared lock holds every commit back). A SQLite
 * source in WAL mode, whose read snapshot belongs to one connection, gets one
 * lane, which stages and verifies every table in its one read transaction. A target that takes one writer at a time (SQLite) gets one
 * lane. When no worker can start, or the one lane would only pass bytes
 * through, the run's own sessions are the one lane, on the main thread.
 */
import { availableParallelism, hostname, networkInterfaces } from 'node:os';
import { parseConnectionUrl } from '../../../shared/connectionUrl.js';
import type { JobOptions } from '../../../shared/jobSpec.js';
import type { OpenOptions, Session } from '../dialects/dialect.js';
import { errorMessage } from '../errors.js';
import type { Endpoint } from '../pipeline/endpoint.js';
import { InlineLane, type Lane } from './lane.js';
import type { LaneConfig, SnapshotJoin } from './protocol.js';
import { WorkerLane, workerEntry } from './workerLane.js';

/**
 * options.parallel's default: as many lanes as cores, plus one to overlap
 * waiting, when the servers are elsewhere. Fewer when they are not:
 * - every table passes through as bytes: the servers do all the work (a
 *   source and a target backend a lane), and lanes beyond half the cores only
 *   contend (measured on 2 cores: 1 lane 2.7 s, 3 lanes 3.0 s for 1M rows,
 *   and 90 MB more);
 * - a server runs on this machine: each lane keeps a backend of it busy on the
 *   same cores, so lanes get the cores the servers leave (at least one).
 *   Measured on 2 cores with PostgreSQL and MariaDB local, 1M rows: MariaDB →
 *   PostgreSQL 4.0 s on 1 lane, 4.2 s on 3; PostgreSQL → MariaDB 5.5 / 5.4 s;
 *   two tables at once 1.09× one after the other; each lane ~65 MB more.
 */
export function defaultParallel(allPassThrough = false, localServers = 0): number {
  const cores = availableParallelism();
  if (allPassThrough) return Math.max(1, Math.floor(cores / 2));
  return localServers > 0 ? Math.max(1, cores - localServers) : cores + 1;
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|::1|0\.0\.0\.0)$/i;

/** Addresses of this machine: a server reached at one of them shares its cores. */
function ownAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.add(a.address.toLowerCase());
  out.add(hostname().toLowerCase());
  return out;
}

/** Database servers of these connections that run on this machine (one, when source and target are the same server). */
export function localServerCount(urls: string[]): number {
  const own = ownAddresses();
  const servers = new Set<string>();
  for (const url of urls) {
    let info;
    try {
      info = parseConnectionUrl(url);
    } catch {
      continue;
    }
    if (info.engine === 'sqlite') continue;
    const host = info.host.toLowerCase();
    if (LOOPBACK.test(host) || host.startsWith('/') || own.has(host)) servers.add(`${info.engine}:${info.port}`);
  }
  return servers.size;
}

/** Lanes options allow: options.parallel, within options.maxConnections per server (the run's own session counts). */
export function lanesAllowed(options: JobOptions, allPassThrough = false, localServers = 0): number {
  const parallel = options.parallel ?? defaultParallel(allPassThrough, localServers);
  const connections = options.maxConnections ?? Infinity;
  return Math.max(1, Math.min(parallel, connections - 1));
}

/** Several sessions can read one point in time of this source (SQLite: with a rollback journal, see holdWrites). */
function snapshotShareable(source: Session): boolean {
  return source.exportSnapshot !== undefined || source.holdWrites !== undefined;
}

/** Lanes a run between these sessions can use at most (chunks are sized for them). */
export function plannedLanes(options: JobOptions, source: Session, target: Session, allPassThrough = false, localServers = 0): number {
  return snapshotShareable(source) && target.dialect.capabilities.concurrentWriters ? lanesAllowed(options, allPassThrough, localServers) : 1;
}

export interface LaneSetup {
  source: Endpoint;
  target: Endpoint;
  options: JobOptions;
  urls: { source: string; target: string };
  openOptions: { source: OpenOptions; target: OpenOptions };
  /** Most lanes worth opening (chunks to copy). */
  work: number;
  /** Every table passes through as bytes (fewer lanes by default). */
  allPassThrough: boolean;
  /** Database servers of the run on this machine (fewer lanes by default). */
  localServers: number;
  /** Dead-letter retry stages given rows, on the main thread. */
  inlineOnly: boolean;
  warn(message: string): void;
}

export interface Lanes {
  lanes: Lane[];
  /**
   * Start the run's snapshot on the main source session, and join every lane
   * to it, and the sessions `also` (a comparison's helper): false when those
   * could not join it (they must not read the source then).
   */
  beginSnapshot(also?: Session[]): Promise<boolean>;
  close(): Promise<void>;
}

export async function openLanes(s: LaneSetup): Promise<Lanes> {
  const retry = { max: s.options.retries.max, baseDelayMs: s.options.retries.baseDelayMs };
  const source = s.source.session;
  const inline = (): Lanes => ({
    lanes: [new InlineLane(s.source, s.target, retry)],
    beginSnapshot: async (also = []) => {
      if (!also.length || !snapshotShareable(source)) {
        await source.beginSnapshot();
        return !also.length;
      }
      const shared = await shareSnapshot(source, also);
      if (shared.held) return shared.also;
      await source.beginSnapshot();
      return false;
    },
    close: async () => undefined,
  });
  const shareable = snapshotShareable(source);
  const entry = workerEntry();
  const explicit = s.options.parallel !== undefined && s.options.parallel > 1;
  if (s.inlineOnly || !entry) {
    if (!entry) s.warn('tables are staged on the main thread, one chunk at a time: the chunk worker (out/main/chunkWorker.js) was not found; run `npm run build`');
    return inline();
  }
  let count = Math.max(1, Math.min(lanesAllowed(s.options, s.allPassThrough, s.localServers), s.work));
  if (!shareable) {
    if (explicit) s.warn('tables are staged one chunk at a time: parallel readers need a source whose snapshot several sessions can share');
    count = 1;
  } else if (!s.target.session.dialect.capabilities.concurrentWriters) {
    if (explicit && count > 1) s.warn('tables are staged one chunk at a time: the target (SQLite) takes one writer at a time');
    count = 1;
  }
  // One lane of bytes only: the servers do the work, a worker would only add its start (measured
  // on 2 cores, 1M rows: PostgreSQL → PostgreSQL 1.66 s on a worker, 1.44 s on the main thread;
  // PostgreSQL → MariaDB 3.06 / 2.75 s) and ~28 MB.
  if (count === 1 && s.allPassThrough) return inline();
  const config: LaneConfig = {
    source: { url: s.urls.source, options: s.openOptions.source },
    target: { url: s.urls.target, options: s.openOptions.target },
    retry,
    rateLimited: s.options.rateLimit.rowsPerSecond > 0 || s.options.rateLimit.bytesPerSecond > 0,
    batchBytes: s.options.batch.maxBytes,
  };
  let workers: WorkerLane[];
  try {
    workers = await openWorkers(entry, config, count);
  } catch (err) {
    s.warn(`tables are staged on the main thread: a chunk worker could not start (${errorMessage(err)})`);
    return inline();
  }
  let lanes: Lane[] = workers;
  const closeWorkers = () => Promise.allSettled(workers.map((w) => w.close())).then(() => undefined);
  return {
    get lanes() {
      return lanes;
    },
    beginSnapshot: async (also = []) => {
      if (!shareable) {
        // The one lane's read transaction is the run's snapshot: it stages and verifies every table.
        await workers[0].joinSnapshot({ kind: 'begin' });
        return !also.length;
      }
      const shared = await shareSnapshot(source, also, (snapshot) => Promise.all(workers.map((w) => w.joinSnapshot(snapshot))).then(() => undefined));
      if (shared.held) return shared.also;
      // Lanes that could each see another point in time would break the run's one snapshot: one lane, the main one.
      s.warn(`tables are staged one chunk at a time, on the run's own session: ${shared.why}`);
      await closeWorkers();
      workers = [];
      lanes = [new InlineLane(s.source, s.target, retry)];
      await source.beginSnapshot();
      return false;
    },
    close: closeWorkers,
  };
}

/**
 * Begin the source session's snapshot with the worker lanes and the sessions
 * `also` joined to it: exported and imported (PostgreSQL), or begun while
 * commits are held back (MySQL/MariaDB). Not held: nothing begun. `also` is
 * false when those sessions could not join (the run goes on without them).
 */
async function shareSnapshot(
  source: Session,
  also: Session[],
  lanes: (join: SnapshotJoin) => Promise<void> = async () => undefined,
): Promise<{ held: true; also: boolean } | { held: false; why: string }> {
  let joined = true;
  const join = (begin: (s: Session) => Promise<void>) =>
    Promise.all(also.map(begin)).then(
      () => undefined,
      () => {
        joined = false;
      },
    );
  if (source.exportSnapshot) {
    const id = await source.exportSnapshot();
    await Promise.all([lanes({ kind: 'import', id }), join((a) => (a.joinSnapshot ? a.joinSnapshot(id) : Promise.reject(new Error('cannot join')))) ]);
    return { held: true, also: joined };
  }
  const held = await source.holdWrites!(() => Promise.all([lanes({ kind: 'begin' }), join((a) => a.beginSnapshot())]).then(() => undefined));
  return held.ok ? { held: true, also: joined } : { held: false, why: held.why };
}

async function openWorkers(entry: string, config: LaneConfig, count: number): Promise<WorkerLane[]> {
  const opened = await Promise.allSettled(Array.from({ length: count }, () => WorkerLane.open(entry, config)));
  const failed = opened.find((o) => o.status === 'rejected');
  const workers = opened.filter((o): o is PromiseFulfilledResult<WorkerLane> => o.status === 'fulfilled').map((o) => o.value);
  if (failed) {
    await Promise.allSettled(workers.map((w) => w.close()));
    throw failed.reason;
  }
  return workers;
}
