/**
 * A run: plan → stage every table → apply all in one transaction → verify.
 * The engine knows nothing of the store: it reports through the context's
 * callbacks, and whoever called it (CLI, app) persists what it needs.
 */
import { availableParallelism } from 'node:os';
import { redactUrl } from '../../../shared/connectionUrl.js';
import type { RunEvent, RunMetrics, RunSummary, TablePhase, TableSummary } from '../../../shared/events.js';
import type { JobSpec } from '../../../shared/jobSpec.js';
import { FerryError, errorMessage, isTransient } from '../errors.js';
import { STAGING_PREFIX, stagingTableName } from '../naming.js';
import { tableLabel, type Row, type TableName } from '../types.js';
import { applyAll, promoteStagedTargets, type BackupRecord, type RejectedRow, type StagedTable } from './apply.js';
import { Endpoint } from './endpoint.js';
import { wasApplied } from './marker.js';
import { killPoint, pausePoint } from '../testHooks.js';
import { backupsInTarget, clearBackupsInTarget } from './backupLedger.js';
import { pendingSchema } from '../schema/pending.js';
import { carrySchemaOutside } from '../schema/outside.js';
import { describeLimit, overInvalidLimit } from './limits.js';
import { assertPlanOk, buildPlan, type TablePlan } from './plan.js';
import { Progress } from './progress.js';
import { RateLimiter } from './rateLimit.js';
import { withRetries, type RetryPolicy } from './retry.js';
import { CHUNK_STRIDE, DEFAULT_SIZING, chunkBase, expectedChunks, planChunks, type ChunkSizing } from './chunks.js';
import { INDEX_EARLY_ROWS, createStagingTable, indexStaging, keyAtStaging, promotable, type ChunkCheckpoint, type DeltaCheckpoint, type StageCheckpoint } from './stage.js';
import { compareEligibility, compareTable, rulesCheckEveryRow, type CompareOptions, type CompareResult, type KeyRange } from './compare.js';
import { compareByVersions, forgetSyncStates, readSyncStates, specFingerprint, syncFlow, trustedSince, versionsApply, type SyncState, type VersionsToRecord } from './syncState.js';
import { needsDelta } from './delta.js';
import { isAfter } from './watermark.js';
import type { OpenOptions, Session } from '../dialects/dialect.js';
import type { Lane } from '../workers/lane.js';
import { localServerCount, openLanes, plannedLanes, type Lanes } from '../workers/lanes.js';
import type { ChunkTask } from '../workers/protocol.js';
import { deadKey } from './verify.js';
import { RefusalTally } from './refusals.js';
import { RunTunnels } from '../ssh/runTunnels.js';
import type { TargetIndex } from '../schema/model.js';
import { formatCount } from '../../../shared/numbers.js';

export interface TableCheckpoint {
  staging: string;
  /** The table's totals over its chunks. */
  checkpoint: StageCheckpoint;
  done: boolean;
  /** Each chunk's bounds and progress (absent in checkpoints of one-chunk runs of older versions: chunk 0). */
  chunks?: ChunkCheckpoint[];
}

export interface DeadLetter {
  tableIndex: number;
  table: string;
  columns: string[];
  key?: Row;
  row: Row;
  reasons: string[];
  stage: 'stage' | 'validate' | 'apply';
  /** The staged batch the row came in (stage, validate): resume forgets letters of batches it stages again. */
  batch?: number;
}

export interface RunContext {
  runId: string;
  baseDir: string;
  signal?: AbortSignal;
  /** Checkpoints of an interrupted run being resumed, by table index. */
  resume?: Map<number, TableCheckpoint>;
  emit(event: RunEvent): void;
  checkpoint?(tableIndex: number, c: TableCheckpoint): void;
  deadLetter?(d: DeadLetter): void;
  /** Backups taken by this run; returns older backup tables to drop (options.backups.keep). */
  backups?(records: BackupRecord[]): TableName[];
  /** May a staging table left in the target by an earlier run be dropped? (false: it is resumable) */
  isAbandoned?(stagingTable: string): boolean;
  /** Rows to stage instead of reading the source table (dead-letter retry). */
  rowsFor?(plan: TablePlan): AsyncIterable<Row[]> | undefined;
  /**
   * Dead letters refused at apply are recorded inside the apply transaction,
   * before its commit, as pending (replacing any earlier attempt's), so a crash
   * right after the commit cannot lose them; the commit confirms them.
   */
  pendingDeadLetters?(letters: DeadLetter[]): void;
  confirmDeadLetters?(): void;
  /** A resumed run that must apply again: pending letters of the interrupted attempt are void. */
  discardPendingDeadLetters?(): void;
  /** A resumed chunk stages again its batches after `after` (through its last, `through`): the letters those batches left are void. */
  discardDeadLettersAfter?(tableIndex: number, after: number, through?: number): void;
  /** Keys this run dead-lettered before it was interrupted: verify expects them missing. */
  deadLetterKeys?(tableIndex: number): Row[];
}

interface TableState {
  plan: TablePlan;
  summary: TableSummary;
  startedAt: number;
  deadKeys: Set<string>;
  /** The table's chunks and how far each got; fixed once the table starts staging. */
  chunks: ChunkCheckpoint[];
  staged?: StagedTable;
  progress?: Progress;
  /** Resolves once the staging table exists and the chunk list is recorded. */
  started?: Promise<void>;
  chunksLeft: number;
  /** Compared before copying (compare.ts): its chunks are the key ranges that differ. */
  delta?: DeltaCheckpoint;
  /** Its chunks wait for the comparison (planned after it, if it falls back). */
  comparing?: boolean;
  /** Its staging table was indexed as it was created (a delta's few rows): finishTable has no index to build. */
  indexed?: boolean;
  /** Where both tables' row versions stood, for the apply to record (syncState.ts). */
  versions?: VersionsToRecord;
}

/** Rows from which a compared table's first level is hashed in two halves where the engine runs a statement on one core. */
const SPLIT_HASH_ROWS = 200_000;

export function runJob(spec: JobSpec, ctx: RunContext): Promise<RunSummary> {
  return new Run(spec, ctx).execute();
}

/** One run's state, phase by phase. */
class Run {
  private readonly started = Date.now();
  private readonly tables: TableState[] = [];
  private readonly staged: StagedTable[] = [];
  private readonly endpoints: Endpoint[] = [];
  private tunnels?: RunTunnels;
  private source!: Endpoint;
  private target?: Endpoint;
  private readonly signal: AbortSignal;
  private readonly timedOut: () => boolean;
  private readonly disposeSignal: () => void;
  private readonly retry: RetryPolicy;
  private readonly rateLimit: RateLimiter;
  private markerSchema?: string;
  /** Staging tables earlier runs left, being looked for and dropped while the source's snapshot begins (plan). */
  private abandoned?: Promise<void>;
  /** The source's read transaction, ending while the apply runs when nothing reads the source after staging. */
  private sourceEnded?: Promise<void>;
  private lanes?: Lanes;
  /** Second sessions a comparison hashes half of a big table's first level on (compare.ts hashSide), closed after it. */
  private compareHelpers?: { source?: Session; target?: Session };
  /** Connections for prebuildIndexes, opened while the last table stages (openPrebuildEarly). */
  private prebuildEndpoints?: Promise<Endpoint>[];
  private taskIds = 0;
  /** When each phase started (ms since the epoch): what the metrics are made of. */
  private readonly marks: { stage?: number; apply?: number; verify?: number; end?: number } = {};
  private retries = 0;
  private rejectedTotal = 0;
  private readTotal = 0;
  /** Why rows were refused, grouped, for the message of a run that refused too many. */
  private readonly refusals = new RefusalTally();
  /** The apply committed: a summary's written rows are in the target (before, they were only staged). */
  private applied = false;

  constructor(
    private readonly spec: JobSpec,
    private readonly ctx: RunContext,
  ) {
    const { signal, timedOut, dispose } = runSignal(ctx.signal, spec.options.timeouts.runMs);
    this.signal = signal;
    this.timedOut = timedOut;
    this.disposeSignal = dispose;
    this.rateLimit = new RateLimiter(spec.options.rateLimit.rowsPerSecond, spec.options.rateLimit.bytesPerSecond);
    this.retry = {
      max: spec.options.retries.max,
      baseDelayMs: spec.options.retries.baseDelayMs,
      signal,
      onRetry: (attempt, delayMs, err) => {
        this.retries++;
        ctx.emit({ type: 'retry', runId: ctx.runId, attempt, delayMs, message: errorMessage(err) });
      },
    };
  }

  async execute(): Promise<RunSummary> {
    const { spec, ctx } = this;
    ctx.emit({ type: 'run-started', runId: ctx.runId, job: spec.name, source: redactUrl(spec.source.url), target: redactUrl(spec.target.url), at: new Date(this.started).toISOString() });
    try {
      await this.open();
      await this.plan();
      // Workers start (a few hundred ms: a thread, the engine, two connections) while chunks are probed.
      // Rate-limited tables are copied row by row: they do not pass through.
      const allPassThrough = this.tables.length > 0 && this.tables.every((t) => t.plan.rawFormat !== undefined) && !this.rateLimit.active;
      const localServers = localServerCount([spec.source.url, spec.target.url]);
      const sizing: ChunkSizing = {
        lanes: ctx.rowsFor ? 1 : plannedLanes(spec.options, this.source.session, this.target!.session, allPassThrough, localServers),
        ...DEFAULT_SIZING,
        rows: spec.options.chunkRows,
      };
      const lanes = openLanes({
        source: this.source,
        target: this.target!,
        options: spec.options,
        urls: { source: spec.source.url, target: spec.target.url },
        openOptions: { source: this.openOptions('source'), target: this.openOptions('target') },
        work: this.tables.reduce((n, t) => n + this.expectedWork(t, sizing), 0),
        allPassThrough,
        localServers,
        inlineOnly: ctx.rowsFor !== undefined,
        warn: (m) => this.warn(m),
      });
      const [opened, chunked, helpers] = await Promise.allSettled([lanes, this.planChunks(sizing), this.openCompareHelpers(sizing.lanes, localServers)]);
      if (helpers.status === 'fulfilled') this.compareHelpers = helpers.value;
      if (opened.status === 'rejected') throw opened.reason;
      this.lanes = opened.value;
      if (chunked.status === 'rejected') throw chunked.reason;
      // One snapshot for every table and lane of this run (and for verification), a comparison's source helper too.
      const helperSource = this.compareHelpers?.source;
      if (!(await opened.value.beginSnapshot(helperSource ? [helperSource] : [])) && helperSource) {
        delete this.compareHelpers!.source;
        void helperSource.close().catch(() => undefined);
      }
      await this.abandoned;
      const alreadyApplied = ctx.resume !== undefined && (await wasApplied(this.target!.session, ctx.runId, this.markerSchema));
      if (alreadyApplied) {
        this.applied = true;
        this.warn('this run was applied before it was interrupted; verifying it');
        ctx.confirmDeadLetters?.();
        await this.forgetStaging();
      } else {
        ctx.discardPendingDeadLetters?.();
        await this.compareAll(sizing);
        await this.closeCompareHelpers();
        await this.stageAll();
        // Nothing reads the source once the rows are staged, unless verify does: its read transaction ends meanwhile.
        if (spec.options.verify === 'none') this.sourceEnded = this.endSourceSnapshot();
        this.checkInvalidLimit();
        this.abortIfCancelled();
        await this.prebuildIndexes();
        this.abortIfCancelled();
        await this.apply();
        await pausePoint('before-verify');
      }
      const mismatched = await this.verify();
      if (mismatched) await this.forgetVersions();
      await (this.sourceEnded ?? this.endSourceSnapshot());
      const summary = mismatched
        ? this.summarize('failed', this.verifyFailure(), 'verify')
        : this.summarize(this.tables.some((t) => t.summary.rowsDeadLettered > 0) ? 'dead-lettered' : 'succeeded');
      ctx.emit(summary);
      return summary;
    } catch (err) {
      // Awaited here, or the finally below would close the connections while fail() still uses them.
      return await this.fail(err);
    } finally {
      this.disposeSignal();
      await this.closePrebuildEarly();
      await this.closeCompareHelpers();
      await this.lanes?.close();
      await Promise.allSettled(this.endpoints.map((e) => e.close()));
      await this.tunnels?.close();
    }
  }

  /** Verification found a difference: what the run wrote is not known to be right, and the next run must compare it all. */
  private async forgetVersions(): Promise<void> {
    const flows = this.tables.filter((t) => t.versions).map((t) => t.versions!.flow);
    await forgetSyncStates(this.target!.session, this.markerSchema, flows).catch((err) => this.warn(`could not forget the recorded row versions: ${errorMessage(err)}`));
  }

  /** Only a read transaction ends here: a source connection that dropped meanwhile has ended it already. */
  private endSourceSnapshot(): Promise<void> {
    const ended = this.source.session.endSnapshot().catch((err: unknown) => {
      if (!isTransient(err)) throw err;
    });
    // Seen where it is awaited; not an unhandled rejection if the run fails first.
    ended.catch(() => undefined);
    return ended;
  }

  private openOptions(role: 'source' | 'target'): OpenOptions {
    return { baseDir: this.ctx.baseDir, role, schema: this.spec[role].schema, statementTimeoutMs: this.spec.options.timeouts.statementMs, tunnel: this.tunnels?.address(role) };
  }

  private openEndpoint(role: 'source' | 'target'): Promise<Endpoint> {
    return Endpoint.open(this.spec[role].url, this.openOptions(role));
  }

  private async open(): Promise<void> {
    // One SSH connection per tunneled side for the whole run; every lane connects through it.
    this.tunnels = await RunTunnels.open(this.spec, this.ctx.baseDir);
    // Both at once: over a remote link, each connection's setup is several round trips.
    const [source, target] = await Promise.allSettled([this.openEndpoint('source'), this.openEndpoint('target')]);
    for (const e of [source, target]) if (e.status === 'fulfilled') this.endpoints.push(e.value);
    if (source.status === 'rejected') throw source.reason;
    if (target.status === 'rejected') throw target.reason;
    this.source = source.value;
    this.target = target.value;
  }

  private async plan(): Promise<void> {
    const plan = await buildPlan(this.spec, this.source.session, this.target!.session);
    this.ctx.emit({ type: 'plan', runId: this.ctx.runId, tables: plan.tables.map((t) => t.planned), warnings: plan.warnings });
    for (const w of plan.warnings) this.warn(w);
    assertPlanOk(plan);
    // On the target while the source begins its snapshot (awaited before anything else uses the target).
    this.abandoned = dropAbandonedStaging(this.target!, this.ctx, (m) => this.warn(m));
    this.abandoned.catch(() => undefined);
    this.markerSchema = plan.tables[0]?.targetName.schema;
    // Rows refused before an interruption still count against options.maxInvalidRows.
    this.rejectedTotal = [...(this.ctx.resume?.values() ?? [])].reduce((n, c) => n + c.checkpoint.rowsRejected, 0);
    for (const p of plan.tables) {
      this.tables.push({
        plan: p,
        startedAt: Date.now(),
        deadKeys: new Set((this.ctx.resume ? this.ctx.deadLetterKeys?.(p.index) ?? [] : []).map(deadKey)),
        summary: { source: p.sourceLabel, target: p.targetLabel, mode: p.mode, phase: 'pending', rowsRead: 0, rowsWritten: 0, rowsDeadLettered: 0, created: p.createTarget, durationMs: 0 },
        chunks: [],
        chunksLeft: 0,
      });
    }
  }

  private stagingName(p: TablePlan): TableName {
    return { schema: p.targetName.schema, name: stagingTableName(this.ctx.runId, p.index) };
  }

  /**
   * Each table's chunks: those an interrupted run recorded (their numbering is
   * in the staged rows), or key ranges probed now, sized for the lanes allowed.
   */
  private async planChunks(sizing: ChunkSizing): Promise<void> {
    for (const t of this.tables) {
      const resumed = this.ctx.resume?.get(t.plan.index);
      if (resumed) {
        t.chunks = resumed.chunks ?? [{ index: 0, ...resumed.checkpoint, done: resumed.done }];
        t.delta = resumed.checkpoint.delta;
        if (t.delta) t.summary.path = t.delta.path;
      } else if (this.compares(t)) {
        // Its chunks are the key ranges the comparison finds (after the snapshot begins).
        t.comparing = true;
        t.chunks = [];
      } else {
        const plans = this.ctx.rowsFor ? [{ index: 0 }] : await planChunks(t.plan, this.source.session, sizing, this.signal);
        t.chunks = plans.map((c) => ({ ...c, batch: chunkBase(c.index), rowsRead: 0, rowsWritten: 0, rowsRejected: 0, bytes: 0, done: false }));
      }
      t.chunksLeft = resumed?.done ? 0 : t.chunks.filter((c) => !c.done).length;
    }
  }

  /** Will this table be compared before copying (options.compare, compare.ts)? */
  private compares(t: TableState): boolean {
    const p = t.plan;
    const mode = this.spec.options.compare;
    if (mode === 'never' || this.ctx.rowsFor || !(p.mode === 'upsert' || p.mode === 'mirror') || !needsDelta(this.target!.session, p)) return false;
    if (rulesCheckEveryRow(p, mode)) return false;
    return 'kinds' in compareEligibility(p, this.source.session, this.target!.session);
  }

  /**
   * A second session on each side whose engine runs a hash statement on one core
   * (splitHashes), when a table of at least SPLIT_HASH_ROWS rows is compared:
   * its first level is hashed in two halves at once, on a server with a core
   * to spare. Not when the run's servers are on this machine and leave no
   * core for a third scan (both sides already hash at once: on 2 cores a
   * MariaDB → PostgreSQL comparison of 1M rows took as long split as not),
   * nor with options.parallel 1 or beyond options.maxConnections. A helper that cannot open is done without.
   */
  private async openCompareHelpers(lanes: number, localServers: number): Promise<{ source?: Session; target?: Session } | undefined> {
    const max = this.spec.options.maxConnections;
    // DBFERRY_SPLIT_HASHES=1: whatever the cores and the table's size (tests), 0: never.
    const forced = process.env.DBFERRY_SPLIT_HASHES;
    // options.parallel 1 asks for one connection's load (and no FLUSH TABLES WITH READ LOCK on a MariaDB source).
    if (forced === '0' || this.ctx.resume || this.spec.options.parallel === 1 || (max !== undefined && lanes + 2 > max)) return undefined;
    if (forced !== '1' && localServers > 0 && availableParallelism() < localServers + 2) return undefined;
    const rows = (t: TableState) => (forced === '1' ? Infinity : Math.max(t.plan.estimate ?? 0, t.plan.targetInfo?.rowEstimate ?? 0));
    if (!this.tables.some((t) => rows(t) >= SPLIT_HASH_ROWS && this.compares(t))) return undefined;
    const split = (e: Endpoint) => e.session.dialect.capabilities.splitHashes === true;
    const source = split(this.source);
    const target = split(this.target!);
    const open = (e: Endpoint, wanted: boolean) => (wanted ? e.openAnother().catch(() => undefined) : Promise.resolve(undefined));
    const [s, t] = await Promise.all([open(this.source, source), open(this.target!, target)]);
    return s || t ? { source: s, target: t } : undefined;
  }

  private async closeCompareHelpers(): Promise<void> {
    const h = this.compareHelpers;
    this.compareHelpers = undefined;
    await Promise.allSettled([h?.source?.close(), h?.target?.close()]);
  }

  /**
   * Compare before copying: both servers hash the table's key ranges, in the
   * run's snapshot; the ranges that differ become its chunks. More than half of
   * the rows differing ("auto"): the full copy, planned now.
   */
  private async compareAll(sizing: ChunkSizing): Promise<void> {
    const states = await this.markVersions();
    for (const t of this.tables) {
      if (!t.comparing) continue;
      t.comparing = false;
      const p = t.plan;
      const eligible = compareEligibility(p, this.source.session, this.target!.session);
      const started = Date.now();
      let fallback: string | undefined;
      if ('kinds' in eligible) {
        const auto = this.spec.options.compare === 'auto';
        const opts = { maxDifferingShare: auto ? 0.5 : 1, signal: this.signal, helpers: this.compareHelpers };
        const byVersions = await this.compareByVersions(t, states, opts);
        const c = 'ranges' in byVersions ? byVersions : await withRetries(this.retry, () => compareTable(p, this.source.session, this.target!.session, eligible.kinds, opts));
        const seconds = ((Date.now() - started) / 1000).toFixed(2);
        const unused = 'reason' in byVersions && byVersions.reason ? `; row versions not used: ${byVersions.reason}` : '';
        if (c.tooMuch) fallback = `${c.tooMuch} (range hashes, ${seconds} s${unused})`;
        else {
          const n = formatCount;
          const keys = (k: number) => `${n(k)} key${k === 1 ? '' : 's'}`;
          const v = c.byVersions;
          const how = !v
            ? `range hashes on both servers (${c.levels} level${c.levels === 1 ? '' : 's'}, ${seconds} s${c.halves ? `; ${c.halves.length === 2 ? "both sides'" : `the ${c.halves[0]}'s`} first level in two halves at once` : ''}) found ${n(c.buckets)} key bucket${c.buckets === 1 ? '' : 's'} that differ`
            : v.keyHashes
              ? `rows written since the last sync, by both servers' row versions, are ${keys(v.written)}, and range hashes of the key alone (${c.levels} level${c.levels === 1 ? '' : 's'}; ${seconds} s in all) found the keys only one side has: ${n(c.buckets)} key bucket${c.buckets === 1 ? '' : 's'} to stage`
              : `rows written since the last sync, by both servers' row versions (${seconds} s), are ${keys(v.written)}`;
          const path = `delta: ${how} (${c.ranges.length} chunk${c.ranges.length === 1 ? '' : 's'}); ${n(c.differingSourceRows)} of ${n(c.sourceRows)} source rows staged, ${n(c.unchangedRows)} left as they are${unused}`;
          t.delta = { unchangedRows: c.unchangedRows, sourceRows: c.sourceRows, targetRows: c.targetRows, path };
          t.summary.path = path;
          t.chunks = c.ranges.map((r: KeyRange, index) => ({ index, ...r, batch: chunkBase(index), rowsRead: 0, rowsWritten: 0, rowsRejected: 0, bytes: 0, done: false }));
          t.chunksLeft = t.chunks.length;
          this.ctx.emit({ type: 'compared', runId: this.ctx.runId, table: p.sourceLabel, path, delta: true, ranges: c.ranges.length, sourceRows: c.sourceRows, rowsToStage: c.differingSourceRows, unchanged: c.unchangedRows, durationMs: Date.now() - started });
          continue;
        }
      } else fallback = eligible.reason;
      t.summary.path = `full copy (every row staged, then only rows that differ written): ${fallback}`;
      this.ctx.emit({ type: 'compared', runId: this.ctx.runId, table: p.sourceLabel, path: t.summary.path, delta: false, durationMs: Date.now() - started });
      const plans = await planChunks(p, this.source.session, sizing, this.signal);
      t.chunks = plans.map((c) => ({ ...c, batch: chunkBase(c.index), rowsRead: 0, rowsWritten: 0, rowsRejected: 0, bytes: 0, done: false }));
      t.chunksLeft = t.chunks.length;
    }
  }

  /**
   * The source's row versions of every table whose run can record them
   * (syncState.ts), in the run's snapshot; and the states earlier runs recorded
   * for the tables being compared.
   */
  private async markVersions(): Promise<Map<string, SyncState>> {
    const source = this.source.session;
    const target = this.target!.session;
    // DBFERRY_ROW_VERSIONS=0: neither used nor recorded (tests of range hashes between PostgreSQL servers).
    if (this.ctx.resume || this.ctx.rowsFor || !source.rowVersions || !target.rowVersions || process.env.DBFERRY_ROW_VERSIONS === '0') return new Map();
    const recorded = this.tables.filter((t) => versionsApply(t.plan, source, target) && (t.comparing || t.plan.swap || t.plan.createTarget));
    const marks = await source.rowVersions.marks(recorded.map((t) => t.plan.sourceName));
    recorded.forEach((t, i) => {
      const mark = marks[i];
      if (mark) t.versions = { flow: syncFlow(this.spec.source.url, t.plan), fp: specFingerprint(t.plan), source: mark };
    });
    const compared = recorded.filter((t) => t.comparing && t.versions);
    if (!compared.length) return new Map();
    // The target's marks for the next run, before any of its rows is read (by this run's comparisons).
    const targetMarks = await target.rowVersions.marks(compared.map((t) => t.plan.targetName));
    compared.forEach((t, i) => {
      if (targetMarks[i]) t.versions!.target = targetMarks[i];
      else t.versions = undefined;
    });
    return readSyncStates(target, this.markerSchema, compared.filter((t) => t.versions).map((t) => t.versions!.flow));
  }

  /**
   * The rows written since the last sync, where its recorded marks still hold
   * (syncState.ts); else why the table is compared by range hashes.
   */
  private async compareByVersions(t: TableState, states: Map<string, SyncState>, opts: CompareOptions): Promise<CompareResult | { reason?: string }> {
    const v = t.versions;
    const target = this.target!.session;
    if (!v?.target || !target.rowVersions) return {};
    const state = states.get(v.flow);
    // No earlier state (the table's first compared run) is not worth a word.
    if (!state) return {};
    const since = trustedSince(state, v.fp, { source: v.source, target: v.target });
    if ('reason' in since) return since;
    return withRetries(this.retry, () => compareByVersions(t.plan, this.source.session, target, since, opts));
  }

  /** Chunks left to copy of a table, before they are planned. */
  private expectedWork(t: TableState, sizing: ChunkSizing): number {
    const resumed = this.ctx.resume?.get(t.plan.index);
    if (resumed) return resumed.done ? 0 : (resumed.chunks?.filter((c) => !c.done).length ?? 1);
    return this.ctx.rowsFor ? 1 : expectedChunks(t.plan, sizing);
  }

  /**
   * Stage every table: its chunks go to the lanes in table order, each lane
   * copying one chunk at a time; a table is staged when its last chunk is in.
   * The first failure stops the other lanes; apply then keeps the plan's order.
   */
  private async stageAll(): Promise<void> {
    this.marks.stage = Date.now();
    const abort = new AbortController();
    const signal = AbortSignal.any([this.signal, abort.signal]);
    const queue: { t: TableState; chunk: ChunkCheckpoint | undefined }[] = [];
    for (const t of this.tables) {
      if (this.ctx.resume?.get(t.plan.index)?.done) this.skipStaged(t);
      else for (const chunk of t.chunks) if (!chunk.done) queue.push({ t, chunk });
      // A table whose chunks were all in before an interruption only needs finishing.
      if (!t.staged && t.chunksLeft === 0) queue.push({ t, chunk: t.chunks[0] });
    }
    let next = 0;
    let failure: unknown;
    const work = async (lane: Lane) => {
      while (next < queue.length && !signal.aborted) {
        const { t, chunk } = queue[next++];
        try {
          await this.startTable(t);
          if (chunk && !chunk.done) await this.copyChunk(t, chunk, lane, signal);
          if (t.chunksLeft === 0 && t.summary.phase === 'staging') await this.finishTable(t);
        } catch (err) {
          failure ??= err;
          abort.abort();
        }
      }
    };
    await Promise.all(this.lanes!.lanes.map(work));
    this.abortIfCancelled();
    if (failure) throw failure;
    const order = new Map(this.tables.map((t, i) => [t.plan, i]));
    this.staged.sort((a, b) => order.get(a.plan)! - order.get(b.plan)!);
  }

  /**
   * The key and the indexes of the new tables that become their staging table
   * (PostgreSQL; the key of a table replaced by swap too), built before the apply transaction, several at once, each on a connection
   * of its own (the run's target session and up to three more, within
   * options.maxConnections): in the transaction they could only be built one
   * after another. The apply renames them into place; a failed run drops the
   * staging tables with them, so the target is unchanged either way. An index
   * that fails to build here is left to the apply, which builds it as before
   * (and fails the run there if it must). One index alone is built in the apply.
   */
  private async prebuildIndexes(): Promise<void> {
    const main = this.target!.session;
    const support = main.dialect.schema;
    const jobs = this.prebuildJobs();
    const extra = this.prebuildConnections(jobs.length);
    if (!support?.prebuildIndex || extra < 1) return this.closePrebuildEarly();
    // The apply's time, as the run reports its phases: the tables are staged, this makes them whole.
    this.marks.apply = Date.now();
    // The longest builds first: the last to finish is then a short one, not one core's long tail.
    const cost = (j: (typeof jobs)[number]) => j.rows * (j.index.native || j.index.columns.some((c) => this.isText(j.plan, c.name)) ? 2 : 1) * j.index.columns.length;
    jobs.sort((a, b) => cost(b) - cost(a));
    const early = this.prebuildEndpoints ?? [];
    this.prebuildEndpoints = undefined;
    const opened = await Promise.allSettled([...early, ...Array.from({ length: Math.max(0, extra - early.length) }, () => this.openEndpoint('target'))]);
    const endpoints = opened.filter((o): o is PromiseFulfilledResult<Endpoint> => o.status === 'fulfilled').map((o) => o.value);
    // A target on this machine whose cores these builds fill already: no parallel workers for them.
    const serial = localServerCount([this.spec.target.url]) > 0 && 1 + endpoints.length >= availableParallelism();
    let next = 0;
    const build = async (session: Session) => {
      while (next < jobs.length && !this.signal.aborted) {
        const job = jobs[next++];
        try {
          await support.prebuildIndex!(session, job.staging, job.index, job.name, { serial });
          job.built(job.name);
        } catch {
          // Left to the apply, which builds it in its transaction (and reports what refuses it).
        }
      }
    };
    try {
      await Promise.all([main, ...endpoints.map((e) => e.session)].map(build));
    } finally {
      await Promise.allSettled(endpoints.map((e) => e.close()));
    }
  }

  /** The indexes prebuildIndexes builds: each new table's key and its schema's indexes. */
  private prebuildJobs(): { plan: TablePlan; rows: number; staging: TableName; index: TargetIndex; name: string; built(name: string): void }[] {
    const main = this.target!.session;
    const jobs: ReturnType<Run['prebuildJobs']> = [];
    for (const t of this.tables) {
      const s = t.staged;
      if (!s || !promotable(main, s.plan)) continue;
      const rows = Math.max(s.rows, t.plan.estimate ?? 0);
      // The key, where promotion would build it (PostgreSQL builds it once the rows are in): a unique index it adopts.
      if (s.plan.key.length && !keyAtStaging(main, s.plan)) {
        const index = { name: '', unique: true, columns: s.plan.key.map((name) => ({ name })) };
        jobs.push({ plan: s.plan, rows, staging: s.staging, index, name: `${s.staging.name}_k`, built: (name) => (s.keyIndex = name) });
      }
      const work = s.plan.schemaWork;
      if (!work || !s.plan.createTarget) continue;
      work.indexes.forEach((index, i) => jobs.push({ plan: s.plan, rows, staging: s.staging, index, name: `${s.staging.name}_i${i}`, built: (name) => (index.prebuilt = name) }));
    }
    return jobs;
  }

  /** Connections besides the run's own that prebuildIndexes opens for `jobs` builds (0: none, the apply builds them). */
  private prebuildConnections(jobs: number): number {
    const main = this.target!.session;
    if (!main.dialect.schema?.prebuildIndex || !main.dialect.capabilities.transactionalDdl || jobs < 2) return 0;
    const max = this.spec.options.maxConnections;
    const busy = 1 + (this.lanes?.lanes.filter((l) => l.kind === 'worker').length ?? 0);
    return Math.max(0, Math.min(jobs - 1, 3, max === undefined ? 3 : max - busy));
  }

  /** Text columns sort slower than numbers (collation): their indexes take longer to build. */
  private isText(plan: TablePlan, column: string): boolean {
    return plan.targetColumns.find((c) => c.name === column)?.type.kind === 'text';
  }

  /**
   * Once the last table starts staging, the connections its index builds will take are opened
   * meanwhile (a new session's setup, 50–100 ms each, off the path after the rows are in).
   * Lanes (one per worker) and these stay within options.maxConnections as the builds count it.
   */
  private openPrebuildEarly(): void {
    if (this.prebuildEndpoints) return;
    const planned = this.tables.reduce((n, t) => {
      const p = t.plan;
      if (!promotable(this.target!.session, p)) return n;
      return n + (p.key.length && !keyAtStaging(this.target!.session, p) ? 1 : 0) + (p.createTarget ? (p.schemaWork?.indexes.length ?? 0) : 0);
    }, 0);
    const extra = this.prebuildConnections(planned);
    if (extra < 1) return;
    this.prebuildEndpoints = Array.from({ length: extra }, () => this.openEndpoint('target'));
    // Seen when they are used (or closed): not an unhandled rejection meanwhile.
    for (const p of this.prebuildEndpoints) p.catch(() => undefined);
  }

  /** The connections opened early for builds that do not happen (a failed run, nothing to build). */
  private async closePrebuildEarly(): Promise<void> {
    const early = this.prebuildEndpoints ?? [];
    this.prebuildEndpoints = undefined;
    await Promise.allSettled(early.map((p) => p.then((e) => e.close())));
  }

  /** DDL on the run's own target session while lanes stage: a dropped connection is retried on a new one. */
  private onTarget(fn: (session: Session) => Promise<void>): Promise<void> {
    let used = this.target!.session;
    return withRetries(this.retry, async (attempt) => {
      if (attempt > 0) used = await this.target!.reopen(used);
      return fn(used);
    });
  }

  /** Checkpointed as staged before an interruption: its rows are in its staging table. */
  private skipStaged(t: TableState): void {
    const c = this.ctx.resume!.get(t.plan.index)!.checkpoint;
    this.count(t, c);
    t.staged = { plan: t.plan, staging: this.stagingName(t.plan), rows: c.rowsWritten, cursorMax: c.cursorMax, ...this.deltaOf(t) };
    this.staged.push(t.staged);
    this.setPhase(t, 'staged');
    this.ctx.emit({ type: 'table-staged', runId: this.ctx.runId, table: t.plan.sourceLabel, rowsRead: c.rowsRead, rowsWritten: c.rowsWritten, durationMs: 0 });
  }

  /** Once per table, before its first chunk: the staging table, and the chunk list on record. */
  private startTable(t: TableState): Promise<void> {
    t.started ??= (async () => {
      const { ctx } = this;
      const p = t.plan;
      const staging = this.stagingName(p);
      const resumed = ctx.resume?.get(p.index);
      t.staged = { plan: p, staging, rows: 0, ...this.deltaOf(t), versions: t.versions };
      this.staged.push(t.staged);
      t.startedAt = Date.now();
      t.progress = new Progress();
      this.setPhase(t, 'staging');
      ctx.emit({ type: 'table-started', runId: ctx.runId, table: p.sourceLabel, target: p.targetLabel, estimate: p.estimate, chunks: t.chunks.length });
      // A resumed chunk stages again every batch after its checkpoint (all of them when the table had
      // none yet): the letters those batches left before the crash would be recorded twice.
      if (ctx.resume) {
        if (resumed) for (const c of t.chunks) if (!c.done) ctx.discardDeadLettersAfter?.(p.index, c.batch, chunkBase(c.index) + CHUNK_STRIDE);
        if (!resumed) ctx.discardDeadLettersAfter?.(p.index, 0);
      }
      if (!resumed) {
        const target = this.target!.session;
        t.indexed = !promotable(target, p) && t.delta !== undefined && t.delta.sourceRows - t.delta.unchangedRows <= INDEX_EARLY_ROWS;
        await this.onTarget((session) => createStagingTable(p, session, staging, promotable(session, p), t.indexed));
        this.recordTable(t, false);
      }
      // The last table to stage: the connections that build the indexes once it is in are opened meanwhile.
      if (t === this.tables[this.tables.length - 1]) this.openPrebuildEarly();
      this.aggregate(t);
    })();
    return t.started;
  }

  private async copyChunk(t: TableState, chunk: ChunkCheckpoint, lane: Lane, signal: AbortSignal): Promise<void> {
    const { ctx, spec } = this;
    const p = t.plan;
    const task: ChunkTask = {
      id: ++this.taskIds,
      plan: p,
      staging: t.staged!.staging,
      chunk: { index: chunk.index, after: chunk.after, through: chunk.through, ...(chunk.buckets ? { buckets: chunk.buckets } : {}) },
      // Every unfinished chunk of a resumed table may have batches past its checkpoint to drop.
      resume: ctx.resume?.has(p.index) ? chunk : undefined,
      // Its staging table was created empty for it (a resumed table's may hold rows already).
      alone: t.chunks.length === 1 && !ctx.resume?.has(p.index),
      validate: spec.options.validate,
      batch: spec.options.batch,
    };
    const update = (c: ChunkCheckpoint) => {
      t.chunks[t.chunks.findIndex((x) => x.index === c.index)] = c;
      this.aggregate(t);
      this.recordTable(t, false);
      if (t.progress!.due()) {
        const s = t.summary;
        ctx.emit({ type: 'progress', runId: ctx.runId, table: p.sourceLabel, phase: 'staging', rowsRead: s.rowsRead, rowsWritten: s.rowsWritten, estimate: p.estimate, rowsPerSecond: t.progress!.rate(s.rowsRead) });
      }
    };
    const done = await lane.run(
      task,
      {
        onBatch: update,
        onRejected: (row, reasons, stage, batch) => this.reject(t, row, reasons, stage, batch),
        onWarning: (m) => this.warn(m, p.sourceLabel),
        onRetry: (attempt, delayMs, message) => {
          this.retries++;
          ctx.emit({ type: 'retry', runId: ctx.runId, table: p.sourceLabel, attempt, delayMs, message });
        },
        takeTokens: this.rateLimit.active ? (rows, bytes) => this.rateLimit.take(rows, this.rateLimit.measuresBytes ? bytes : 0) : undefined,
      },
      signal,
      ctx.rowsFor?.(p),
    );
    update({ ...done, done: true });
    t.chunksLeft--;
  }

  /** Every chunk is in: index the staging table for apply, and record the table as staged. */
  private async finishTable(t: TableState): Promise<void> {
    const { ctx } = this;
    const p = t.plan;
    if (!promotable(this.target!.session, p) && !t.indexed) await this.onTarget((session) => indexStaging(p, session, t.staged!.staging));
    this.aggregate(t);
    const c = this.totals(t);
    this.count(t, c);
    this.setPhase(t, 'staged');
    t.summary.stageMs = Date.now() - t.startedAt;
    this.recordTable(t, true);
    ctx.emit({ type: 'progress', runId: ctx.runId, table: p.sourceLabel, phase: 'staged', rowsRead: c.rowsRead, rowsWritten: c.rowsWritten, estimate: c.rowsRead, rowsPerSecond: t.progress?.rate(c.rowsRead) ?? 0 });
    ctx.emit({ type: 'table-staged', runId: ctx.runId, table: p.sourceLabel, rowsRead: c.rowsRead, rowsWritten: c.rowsWritten, durationMs: Date.now() - t.startedAt, bytes: c.bytes });
  }

  /** A delta table's key ranges, which alone its apply compares, deletes in (mirror) and verifies. */
  private deltaOf(t: TableState): { ranges?: KeyRange[]; unchangedRows?: number } {
    if (!t.delta) return {};
    return { ranges: t.chunks.map((c) => ({ after: c.after, through: c.through, buckets: c.buckets })), unchangedRows: t.delta.unchangedRows };
  }

  /** The table's totals over its chunks; the watermark is the largest cursor of any. */
  private totals(t: TableState): StageCheckpoint {
    const out: StageCheckpoint = { batch: 0, rowsRead: 0, rowsWritten: 0, rowsRejected: 0, bytes: 0 };
    for (const c of t.chunks) {
      out.batch = Math.max(out.batch, c.batch);
      out.rowsRead += c.rowsRead;
      out.rowsWritten += c.rowsWritten;
      out.rowsRejected += c.rowsRejected;
      out.bytes! += c.bytes ?? 0;
      if (c.cursorMax !== undefined && isAfter(c.cursorMax, out.cursorMax)) out.cursorMax = c.cursorMax;
    }
    return out;
  }

  private aggregate(t: TableState): void {
    const c = this.totals(t);
    Object.assign(t.summary, { rowsRead: c.rowsRead, rowsWritten: c.rowsWritten, rowsDeadLettered: c.rowsRejected, bytes: c.bytes, chunks: t.chunks.length });
    if (t.staged) {
      t.staged.rows = c.rowsWritten;
      t.staged.cursorMax = c.cursorMax;
    }
  }

  private recordTable(t: TableState, done: boolean): void {
    this.ctx.checkpoint?.(t.plan.index, { staging: t.staged!.staging.name, checkpoint: { ...this.totals(t), ...(t.delta ? { delta: t.delta } : {}) }, done, chunks: t.chunks });
  }

  private count(t: TableState, c: StageCheckpoint): void {
    Object.assign(t.summary, { rowsRead: c.rowsRead, rowsWritten: c.rowsWritten, rowsDeadLettered: c.rowsRejected, bytes: c.bytes });
    this.readTotal += c.rowsRead;
  }

  /** A row the target refused: into the dead-letter queue, or the end of the run. */
  private reject(t: TableState, row: Row, reasons: string[], stage: 'validate' | 'stage', batch: number): void {
    const reason = reasons.join('; ');
    const { options } = this.spec;
    const p = t.plan;
    this.rejectedTotal++;
    const keyIdx = p.orderBy.map((k) => p.columns.findIndex((c) => c.name === k));
    const key = keyIdx.length ? keyIdx.map((i) => row[i]) : undefined;
    if (key) t.deadKeys.add(deadKey(key));
    this.refusals.add(p.sourceLabel, key, reasons);
    this.ctx.deadLetter?.({ tableIndex: p.index, table: p.sourceLabel, columns: p.columns.map((c) => c.name), key, row, reasons, stage, batch });
    if (options.onInvalidRow === 'fail') {
      throw new FerryError('data', `${p.sourceLabel}: the target refused a row${key ? ` (key ${key.map(String).join(', ')})` : ''}: ${reason}`, {
        hint: 'options.onInvalidRow is "fail"; set it to "dead-letter" to keep going and collect such rows',
      });
    }
    if (typeof options.maxInvalidRows === 'number' && this.rejectedTotal > options.maxInvalidRows) {
      throw new FerryError('data', `more than ${describeLimit(options)} were refused`, { hint: this.refusedHint('the target was left as it was', this.refusals) });
    }
  }

  /** What was done, how to see every refused row, and the reasons rows were refused, grouped and counted. */
  private refusedHint(done: string, tally: RefusalTally): string {
    const list = `${done}; every refused row and its reason: dbferry dead-letters list --run ${this.ctx.runId.slice(0, 8)} --all`;
    return tally.size ? `${list}. Why:\n  - ${tally.lines().join('\n  - ')}` : list;
  }

  private checkInvalidLimit(): void {
    const rejected = this.tables.reduce((n, t) => n + t.summary.rowsDeadLettered, 0);
    if (overInvalidLimit(this.spec.options, rejected, this.limitBase())) {
      throw new FerryError('data', `${rejected} of ${this.limitBase()} rows were refused, more than options.maxInvalidRows (${describeLimit(this.spec.options)})`, {
        hint: this.refusedHint('the target was left as it was', this.refusals),
      });
    }
  }

  private async apply(): Promise<void> {
    this.marks.apply ??= Date.now();
    const { ctx } = this;
    const target = this.target!;
    const applyStarted = Date.now();
    for (const t of this.tables) this.setPhase(t, 'applying');
    ctx.emit({ type: 'apply-started', runId: ctx.runId, tables: this.tables.map((t) => t.plan.targetLabel) });
    // A table that refused rows records no state: the next run must try them again.
    for (const t of this.tables) if (t.staged?.versions && t.summary.rowsDeadLettered > 0) t.staged.versions = { ...t.staged.versions, refused: true };
    const { backups, rejected } = await applyAll(target, this.staged, {
      runId: ctx.runId,
      markerSchema: this.markerSchema,
      options: this.spec.options,
      retry: this.retry,
      onWarning: (m) => this.warn(m),
      onSchemaStarted: (works) => ctx.emit({ type: 'schema-started', runId: ctx.runId, tables: works.map((w) => tableLabel(w.table)) }),
      countRejected: (refused) => this.checkApplyRejections(refused, true),
      checkRejected: (refused) => {
        this.checkApplyRejections(refused);
        ctx.pendingDeadLetters?.(refused.map((r) => this.applyDeadLetter(r)));
      },
      stagedRowsPerSecond: this.stagedRate(),
      onProgress: (s, p) => {
        const t = this.tables.find((x) => x.plan === s.plan)!;
        ctx.emit({ type: 'progress', runId: ctx.runId, table: s.plan.sourceLabel, phase: 'applying', rowsRead: t.summary.rowsRead, rowsWritten: t.summary.rowsWritten, estimate: s.rows, ...p });
      },
      onApplied: (s, counts) => {
        const t = this.tables.find((x) => x.plan === s.plan)!;
        // Rows in key ranges whose hashes matched were never staged: unchanged as well.
        t.summary.applied = t.delta ? { ...counts, unchanged: counts.unchanged + t.delta.unchangedRows } : counts;
        this.setPhase(t, 'applied');
        ctx.emit({ type: 'table-applied', runId: ctx.runId, table: s.plan.sourceLabel, ...t.summary.applied });
      },
    });
    this.applied = true;
    killPoint('after-apply-commit');
    ctx.emit({ type: 'apply-committed', runId: ctx.runId, durationMs: Date.now() - applyStarted });
    ctx.confirmDeadLetters?.();
    for (const r of rejected) this.countApplyRejection(r);
    await dropStaging(target, this.staged);
    await this.recordBackups(backups);
  }

  /** The run's backups into the store (older ones beyond options.backups.keep dropped), then out of the target's ledger. */
  private async recordBackups(backups: BackupRecord[]): Promise<void> {
    const session = this.target!.session;
    for (const name of this.ctx.backups?.(backups) ?? []) {
      await session.dropTable(name).catch((err) => this.warn(`could not drop old backup ${name.name}: ${errorMessage(err)}`));
    }
    if (backups.length) await clearBackupsInTarget(session, this.ctx.runId, this.markerSchema);
  }

  /** Rows per second written into staging by the whole run: the apply's first guess at its own rate. */
  private stagedRate(): number {
    const ms = (this.marks.apply ?? Date.now()) - (this.marks.stage ?? Date.now());
    const rows = this.tables.reduce((n, t) => n + t.summary.rowsWritten, 0);
    return ms > 0 ? (rows / ms) * 1000 : 0;
  }

  /**
   * The rows a percentage of options.maxInvalidRows is of: those read, and those a delta
   * table's range hashes found unchanged (compared, not read): a run that stages only what
   * changed is held to the same share of the table as one that stages it all.
   */
  private limitBase(): number {
    return this.readTotal + this.tables.reduce((n, t) => n + (t.delta?.unchangedRows ?? 0), 0);
  }

  /** Rows refused at apply count against options.maxInvalidRows like any other; over it, apply rolls back. */
  private checkApplyRejections(refused: readonly RejectedRow[], looking = false): void {
    const total = this.tables.reduce((n, t) => n + t.summary.rowsDeadLettered, 0) + refused.length;
    if (refused.length > 0 && overInvalidLimit(this.spec.options, total, this.limitBase())) {
      const tally = new RefusalTally();
      for (const r of refused) {
        const d = this.applyDeadLetter(r);
        tally.add(d.table, d.key, d.reasons);
      }
      // While still looking for refused rows, the count so far is already too many.
      throw new FerryError('data', `${looking ? 'at least ' : ''}${total} of ${this.limitBase()} rows were refused by the target, more than options.maxInvalidRows (${describeLimit(this.spec.options)})`, {
        hint: this.refusedHint('the apply was rolled back and the target left as it was', tally),
      });
    }
  }

  private applyDeadLetter(r: RejectedRow): DeadLetter {
    const p = this.tables.find((x) => x.plan.index === r.tableIndex)!.plan;
    const keyIdx = p.orderBy.map((k) => p.columns.findIndex((c) => c.name === k));
    const key = keyIdx.length ? keyIdx.map((i) => r.row[i]) : undefined;
    return { tableIndex: p.index, table: p.sourceLabel, columns: p.columns.map((c) => c.name), key, row: r.row, reasons: [r.reason], stage: 'apply' };
  }

  /** After the commit: the refused row counts as dead-lettered, not written, and verify expects it missing. */
  private countApplyRejection(r: RejectedRow): void {
    const t = this.tables.find((x) => x.plan.index === r.tableIndex)!;
    const { key } = this.applyDeadLetter(r);
    if (key) t.deadKeys.add(deadKey(key));
    t.summary.rowsDeadLettered++;
    t.summary.rowsWritten--;
  }

  /** Resuming a run that was applied before the crash: only its bookkeeping is left. */
  private async forgetStaging(): Promise<void> {
    // MySQL renames new targets into place after the commit: a crash in between left some to rename.
    await promoteStagedTargets(
      this.target!.session,
      this.tables.map((t) => ({ plan: t.plan, staging: this.stagingName(t.plan), rows: this.ctx.resume?.get(t.plan.index)?.checkpoint.rowsWritten ?? 0 })),
      this.ctx.runId,
    );
    const session = this.target!.session;
    // The backups the apply recorded in the target, which the store may not have got before the crash.
    const backups = await backupsInTarget(session, this.ctx.runId, this.markerSchema);
    if (backups) await this.recordBackups(backups);
    // MySQL builds the new tables' indexes and keys after the commit: a crash in between left some to build.
    const pending = session.dialect.schema ? await pendingSchema(session, this.ctx.runId, this.markerSchema) : undefined;
    if (pending) {
      this.ctx.emit({ type: 'schema-started', runId: this.ctx.runId, tables: pending.map((w) => tableLabel(w.table)), resumed: true });
      await carrySchemaOutside(session, pending, { runId: this.ctx.runId, markerSchema: this.markerSchema, resumed: true, onWarning: (m) => this.warn(m) });
    }
    for (const t of this.tables) {
      const c = this.ctx.resume?.get(t.plan.index)?.checkpoint;
      if (c) this.count(t, c);
      await this.target!.session.dropTable(this.stagingName(t.plan)).catch(() => undefined);
    }
  }

  /** Compare source and target, a table a lane at a time, each in the run's snapshot; true when they differ. */
  private async verify(): Promise<boolean> {
    this.marks.verify = Date.now();
    const method = this.spec.options.verify;
    if (method === 'none') {
      for (const t of this.tables) {
        t.summary.verified = 'skipped';
        this.setPhase(t, 'done');
      }
      return false;
    }
    let mismatched = false;
    let next = 0;
    const work = async (lane: Lane) => {
      while (next < this.tables.length) {
        const t = this.tables[next++];
        this.setPhase(t, 'verifying');
        const verifyStarted = Date.now();
        const progress = new Progress();
        const s = t.summary;
        const onProgress = (rowsVerified: number) => {
          if (!progress.due()) return;
          // The source rows to compare are those the run read (within "where", or past the watermark).
          this.ctx.emit({ type: 'progress', runId: this.ctx.runId, table: t.plan.sourceLabel, phase: 'verifying', rowsRead: s.rowsRead, rowsWritten: s.rowsWritten, estimate: s.rowsRead, rowsPerSecond: progress.rate(rowsVerified), rowsVerified });
        };
        const v = await lane.verify(
          {
            id: ++this.taskIds,
            plan: t.plan,
            method,
            batchRows: this.spec.options.batch.maxRows,
            batchBytes: this.spec.options.batch.maxBytes,
            deadLettered: t.summary.rowsDeadLettered,
            deadKeys: [...t.deadKeys],
            since: t.plan.incremental?.since === undefined ? undefined : { column: t.plan.incremental.cursor, value: t.plan.incremental.since, rowsRead: t.summary.rowsRead },
            ...(t.delta ? { delta: { ranges: this.deltaOf(t).ranges!, unchangedRows: t.delta.unchangedRows } } : {}),
          },
          this.signal,
          onProgress,
        );
        t.summary.verified = v.ok ? v.method : 'mismatch';
        t.summary.verifyMs = Date.now() - verifyStarted;
        mismatched ||= !v.ok;
        this.ctx.emit({ type: 'verify', runId: this.ctx.runId, table: t.plan.sourceLabel, ...v });
        this.setPhase(t, 'done');
      }
    };
    await Promise.all(this.lanes!.lanes.map(work));
    return mismatched;
  }

  private async fail(err: unknown): Promise<RunSummary> {
    const cancelled = err instanceof FerryError && err.kind === 'cancelled';
    // A cancelled run keeps its staging tables and checkpoints: `resume` continues it.
    if (this.target && !cancelled) await dropStaging(this.target, this.staged);
    for (const t of this.tables) if (t.summary.phase !== 'done') this.setPhase(t, 'failed');
    const message = errorMessage(err);
    if (!cancelled) this.ctx.emit({ type: 'error', runId: this.ctx.runId, message });
    const summary = this.summarize(cancelled ? 'cancelled' : 'failed', message, err instanceof FerryError ? err.kind : 'internal');
    this.ctx.emit(summary);
    return summary;
  }

  /** One true account of a run whose verification failed: its data is in, and how to take it out again. */
  private verifyFailure(): string {
    const undo = this.spec.options.backups.enabled
      ? `undo this run with: dbferry backups restore ${this.ctx.runId}`
      : 'this run kept no backup (options.backups), so dbferry cannot undo it';
    return `the data was applied, but verification found differences between source and target (listed with each table); ${undo}`;
  }

  private summarize(status: RunSummary['status'], error?: string, errorKind?: string): RunSummary {
    // Rows of a run that never applied were staged, not written: nothing of them is in the target.
    const list = this.applied || status === 'succeeded' || status === 'dead-lettered' ? this.tables.map((t) => t.summary) : this.tables.map((t) => ({ ...t.summary, rowsStaged: t.summary.rowsWritten, rowsWritten: 0 }));
    return {
      ...this.metricsPart(list),
      type: 'summary',
      runId: this.ctx.runId,
      status,
      rowsRead: list.reduce((n, t) => n + t.rowsRead, 0),
      rowsWritten: list.reduce((n, t) => n + t.rowsWritten, 0),
      rowsDeadLettered: list.reduce((n, t) => n + t.rowsDeadLettered, 0),
      ...(this.applied || status === 'succeeded' || status === 'dead-lettered' ? {} : { rowsStaged: list.reduce((n, t) => n + (t.rowsStaged ?? 0), 0) }),
      durationMs: Date.now() - this.started,
      tables: list,
      ...(error ? { error } : {}),
      ...(errorKind ? { errorKind } : {}),
    };
  }

  private metricsPart(list: TableSummary[]): { metrics: RunMetrics } {
    const now = Date.now();
    const m = this.marks;
    const span = (from?: number, to?: number) => (from === undefined ? 0 : Math.max(0, (to ?? now) - from));
    const stageMs = span(m.stage, m.apply ?? m.verify);
    const rowsRead = list.reduce((n, t) => n + t.rowsRead, 0);
    const dead = list.reduce((n, t) => n + t.rowsDeadLettered, 0);
    return {
      metrics: {
        bytesRead: list.reduce((n, t) => n + (t.bytes ?? 0), 0),
        rowsPerSecond: stageMs > 0 ? Math.round((rowsRead / stageMs) * 1000) : 0,
        lanes: this.lanes?.lanes.length ?? 0,
        workers: this.lanes?.lanes.some((l) => l.kind === 'worker') ?? false,
        retries: this.retries,
        errorRate: rowsRead ? dead / rowsRead : 0,
        phases: { planMs: span(this.started, m.stage ?? m.verify), stageMs, applyMs: span(m.apply, m.verify), verifyMs: span(m.verify) },
      },
    };
  }

  private setPhase(t: TableState, phase: TablePhase): void {
    t.summary.phase = phase;
    t.summary.durationMs = Date.now() - t.startedAt;
  }

  private warn(message: string, table?: string): void {
    this.ctx.emit({ type: 'warning', runId: this.ctx.runId, table, message });
  }

  private abortIfCancelled(): void {
    if (!this.signal.aborted) return;
    if (this.timedOut()) throw new FerryError('timeout', 'the run took longer than options.timeouts.runMs and was stopped; the target was left as it was');
    throw new FerryError('cancelled', 'the run was cancelled');
  }
}

/** Combine the caller's cancel signal with options.timeouts.runMs. */
function runSignal(outer: AbortSignal | undefined, runMs: number): { signal: AbortSignal; timedOut: () => boolean; dispose(): void } {
  const controller = new AbortController();
  let expired = false;
  const onAbort = () => controller.abort();
  outer?.addEventListener('abort', onAbort, { once: true });
  if (outer?.aborted) controller.abort();
  const timer = runMs > 0 ? setTimeout(() => ((expired = true), controller.abort()), runMs) : undefined;
  return {
    signal: controller.signal,
    timedOut: () => expired,
    dispose: () => {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
    },
  };
}

async function dropStaging(target: Endpoint, staged: StagedTable[]): Promise<void> {
  for (const s of staged) if (!s.stagingDropped) await target.session.dropTable(s.staging).catch(() => undefined);
  staged.length = 0;
}

/** Staging tables a crashed run left behind, that no resumable run still needs. */
async function dropAbandonedStaging(target: Endpoint, ctx: RunContext, warn: (m: string) => void): Promise<void> {
  if (!ctx.isAbandoned) return;
  const all = await target.session.listTables();
  for (const t of all) {
    if (!t.name.startsWith(`${STAGING_PREFIX}stg_`) || !ctx.isAbandoned(t.name)) continue;
    await target.session.dropTable(t).then(
      () => warn(`dropped ${t.name}, a staging table an interrupted run left behind`),
      (err) => warn(`could not drop the leftover staging table ${t.name}: ${errorMessage(err)}`),
    );
  }
}
