/**
 * The typed API between the UI and the main process: every action the UI can
 * take, as `feature/action` commands with a zod input schema and a plain DTO
 * output, plus the event streams the main process pushes.
 *
 * Two transports carry it unchanged: Electron IPC (preload exposes
 * `window.dbferry`) and HTTP + WebSocket (the browser mode `dbferry ui`).
 * Plain data only, and never a password: the renderer sees `passwordSource`.
 */
import { z } from 'zod';
import type { Engine } from './connectionUrl.js';
import type { PlannedTable, RunEvent, RunStatus, RunSummary, TableSummary } from './events.js';
import { type JobSpec, type JobSpecInput, type SshSpec, parseJobSpec, sshSchema } from './jobSpec.js';

// -- input building blocks ----------------------------------------------------

const id = z.string().min(1, 'must not be empty');

/**
 * A job spec field: parsed by the job spec's own rules (cross-field checks
 * included), each problem reported under `spec.<path>`.
 */
const jobSpecField = z.custom<JobSpecInput>().transform((value, ctx): JobSpec => {
  const result = parseJobSpec(value);
  if (result.ok) return result.spec;
  for (const p of result.problems) ctx.addIssue({ code: 'custom', message: p.message, path: [p.path], input: value });
  return z.NEVER;
});

const empty = z.strictObject({});

export const commands = {
  'app/info': empty,
  /**
   * Create the bundled demo: the example shop as a SQLite source, a new SQLite
   * file as target, and the demo job between them. Loading it again reuses them.
   */
  'app/loadDemo': empty,

  'connections/list': empty,
  'connections/save': z.strictObject({
    id: id.optional(),
    name: z.string().trim().min(1, 'give the connection a name'),
    /** postgres://, mysql://, mariadb:// or sqlite: URL; a password inside it is taken out and kept as `password`. */
    url: z
      .string()
      .trim()
      .min(1, 'must not be empty')
      .refine((u) => /^(postgres|postgresql|mysql|mariadb|sqlite):/i.test(u), {
        message: 'must start with postgres://, mysql://, mariadb:// or sqlite:',
      }),
    /** A password typed by the user. Omitted: keep the one already known. */
    password: z.string().optional(),
    /** Name of an environment variable that holds the password. */
    passwordEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name like PGPASSWORD')
      .optional(),
    /** Forget any saved or session password. */
    clearPassword: z.boolean().optional(),
    /** Reach the server through an SSH tunnel: names of secrets only (files, environment variables). */
    ssh: sshSchema.optional(),
    /** SSH password / key passphrase typed for this session (kept in memory, never saved). Omitted: keep the one known. */
    sshPassword: z.string().optional(),
    sshPassphrase: z.string().optional(),
    /** Keep the key's passphrase across restarts (app/info says where: sshPassphraseStore); false: forget it. Omitted: keep as is. */
    sshRememberPassphrase: z.boolean().optional(),
  }),
  'connections/delete': z.strictObject({ id }),
  /** Test a saved connection (`id`) or an unsaved form (`url` and password). */
  'connections/test': z
    .strictObject({
      id: id.optional(),
      url: z.string().min(1).optional(),
      password: z.string().optional(),
      passwordEnv: z.string().optional(),
      ssh: sshSchema.optional(),
      sshPassword: z.string().optional(),
      sshPassphrase: z.string().optional(),
    })
    .refine((v) => v.id !== undefined || v.url !== undefined, { message: 'give a connection id or a url', path: ['id'] }),
  /**
   * Trust the SSH host key a test just showed (by its fingerprint): it is added
   * to the known_hosts file, as `ssh` does when its user answers "yes".
   */
  'connections/trustHostKey': z.strictObject({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535),
    fingerprint: z.string().min(1),
  }),
  'connections/tables': z.strictObject({ id }),
  /** Columns, primary key and row estimate of some tables, over one session. */
  'connections/describe': z.strictObject({ id, tables: z.array(z.string().min(1, 'must not be empty')).min(1).max(1000) }),

  'jobs/list': empty,
  'jobs/get': z.strictObject({ id }),
  'jobs/save': z.strictObject({ id: id.optional(), spec: jobSpecField }),
  'jobs/delete': z.strictObject({ id }),
  'jobs/duplicate': z.strictObject({ id }),

  /** diff: also compare the rows (plan --diff): what a run would insert, update, delete; nothing is written. */
  'plan/preview': z.strictObject({ spec: jobSpecField, diff: z.boolean().optional() }),

  'runs/start': z.strictObject({ spec: jobSpecField, jobId: id.optional() }),
  'runs/cancel': z.strictObject({ runId: id }),
  'runs/resume': z.strictObject({ runId: id }),
  'runs/list': z.strictObject({ limit: z.number().int().min(1).max(5000).default(500) }),
  'runs/get': z.strictObject({ runId: id }),
  'runs/events': z.strictObject({ runId: id, afterSeq: z.number().int().min(0).default(0) }),

  'deadLetters/list': z.strictObject({
    runId: id.optional(),
    status: z.enum(['open', 'retried', 'discarded']).optional(),
    reason: z.string().optional(),
    limit: z.number().int().min(1).max(10_000).default(1000),
    offset: z.number().int().min(0).default(0),
  }),

  /** Retry a run's open dead letters (a new run that copies only those rows). */
  'deadLetters/retry': z.strictObject({ runId: id }),
  'deadLetters/discard': z.strictObject({ ids: z.array(z.number().int().positive()).min(1, 'choose at least one row').max(100_000) }),

  'backups/list': z.strictObject({ runId: id.optional() }),
  /** Put every target table a run changed back as it was before that run. */
  'backups/restore': z.strictObject({ runId: id }),

  'schedules/list': empty,
  /** Create (no id) or change a schedule: a saved job, a cron expression, on or off. */
  'schedules/save': z.strictObject({
    id: id.optional(),
    jobId: id,
    cron: z.string().trim().min(1, 'give a cron expression, e.g. "0 2 * * *" for 02:00 every day').max(200, 'at most 200 characters'),
    enabled: z.boolean().default(true),
  }),
  'schedules/delete': z.strictObject({ id }),
  /** A cron expression in words and its next runs, or why it is not valid (while the user types). */
  'schedules/preview': z.strictObject({ cron: z.string().max(200, 'at most 200 characters') }),

  'settings/get': empty,
  'settings/save': z.strictObject({ theme: z.enum(['system', 'light', 'dark']).optional() }),
} as const;

export type CommandName = keyof typeof commands;
export const COMMAND_NAMES = Object.keys(commands) as CommandName[];

/** What a caller sends (defaults may be omitted). */
export type CommandInput<K extends CommandName> = z.input<(typeof commands)[K]>;
/** What a handler receives: parsed, defaults filled in. */
export type ParsedInput<K extends CommandName> = z.output<(typeof commands)[K]>;

// -- outputs ------------------------------------------------------------------

export interface AppInfoDto {
  mode: 'desktop' | 'browser';
  version: string;
  stateDir: string;
  /** The desktop app encrypts saved passwords; the browser mode keeps them for the session only. */
  canSavePasswords: boolean;
  /** Where "remember passphrase" keeps an SSH key passphrase ("the app's encrypted store", "the Secret Service keychain"); null: not offered here. */
  sshPassphraseStore: string | null;
  /** Engine capabilities present in this build (resume, dead-letter retry, restore...). */
  features: { resume: boolean; deadLetterRetry: boolean; restore: boolean };
  /** The bundled demo (example shop and job) can be loaded with `app/loadDemo`. */
  demoAvailable: boolean;
}

export interface DemoDto {
  /** The source (the example shop) and the target (a new file), in that order. */
  connections: ConnectionDto[];
  job: JobDto;
}

/** Where a connection's password comes from; the password itself never leaves the main process. */
export type PasswordSource = 'none' | 'env' | 'saved' | 'session';

export interface ConnectionDto {
  id: string;
  name: string;
  engine: Engine;
  /** The URL as stored: never holds a password. Job specs refer to connections by this URL. */
  url: string;
  host?: string;
  port?: number;
  user?: string;
  database?: string;
  path?: string;
  params: Record<string, string>;
  passwordSource: PasswordSource;
  passwordEnv?: string;
  /** The SSH tunnel it goes through, if any. */
  ssh?: SshSpec;
  /** An SSH password or passphrase typed for this session is known (the secret itself never leaves the main process). */
  sshSecretTyped?: boolean;
  /** The SSH key's passphrase is remembered (encrypted, or in the OS keychain): it is used without asking. */
  sshPassphraseRemembered?: boolean;
  createdAt: string;
  updatedAt: string;
}

/** An SSH host key that is not (or no longer) trusted: shown before asking. */
export interface HostKeyDto {
  host: string;
  port: number;
  status: 'unknown' | 'changed' | 'revoked';
  /** e.g. ssh-ed25519 */
  type: string;
  /** SHA256:… as ssh-keygen -l prints it. */
  fingerprint: string;
  knownHosts: string;
}

/** The SSH hop of a connection test, when the connection has a tunnel. */
export interface SshHopDto {
  ok: boolean;
  /** e.g. "SSH deploy@bastion:22". */
  label: string;
  latencyMs: number;
  error?: string;
  hostKey?: HostKeyDto;
}

export type ConnectionTestDto =
  | { ok: true; serverVersion: string; latencyMs: number; tableCount: number; ssh?: SshHopDto }
  | { ok: false; error: string; latencyMs: number; ssh?: SshHopDto };

export interface TableRefDto {
  /** As a job spec names it: "public.orders" or "orders". */
  name: string;
  schema?: string;
}

export interface ColumnDto {
  name: string;
  nativeType: string;
  kind: string;
  nullable: boolean;
}

export interface TableDetailDto {
  name: string;
  /** False when the table does not exist (dropped since it was listed). */
  exists: boolean;
  columns: ColumnDto[];
  primaryKey: string[];
  rowEstimate?: number;
}

export interface JobDto {
  id: string;
  name: string;
  spec: JobSpec;
  createdAt: string;
  updatedAt: string;
}

export interface PlanDto {
  ok: boolean;
  tables: PlannedTable[];
  warnings: string[];
  problems: string[];
}

export interface RunDto {
  id: string;
  jobId: string | null;
  jobName: string;
  source: string;
  target: string;
  status: RunStatus;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  rowsRead: number;
  rowsWritten: number;
  rowsDeadLettered: number;
  error: string | null;
  /** "checksum", "count", "skipped", "mismatch" or null while running / not verified. */
  verification: TableSummary['verified'] | 'mixed' | null;
  tables: TableSummary[];
  /** True while this process is running it (it can be cancelled). */
  active: boolean;
}

export interface RunEventDto {
  seq: number;
  at: string;
  event: RunEvent;
}

export interface RunDetailDto {
  run: RunDto;
  spec: JobSpecInput | null;
  events: RunEventDto[];
}

export interface DeadLetterDto {
  id: number;
  runId: string | null;
  table: string | null;
  /** Key values, in key column order; null for tables copied without a key. */
  key: unknown;
  /** The row as read, column by column (bigints and bytes as strings). */
  row: Record<string, unknown> | unknown;
  reasons: string[];
  stage: string;
  status: string;
  createdAt: string;
}

export interface DeadLetterPageDto {
  total: number;
  items: DeadLetterDto[];
  reasons: { reason: string; count: number }[];
}

export interface BackupDto {
  id: number;
  runId: string;
  jobName: string | null;
  target: string;
  targetTable: string;
  /** created: the run created the table; table: full copy; rows: pre-images and new keys; keys: new keys only. */
  kind: 'created' | 'table' | 'rows' | 'keys' | string;
  /** What a restore does to this table, in words. */
  restoreAction: string;
  createdAt: string;
  restoredAt: string | null;
  /** Pruned (options.backups.keep): no longer restorable. */
  droppedAt: string | null;
}

export interface RestoreResultDto {
  runId: string;
  tables: { table: string; kind: string; deleted: number; inserted: number }[];
}

export type ScheduleOutcomeKind = 'started' | 'skipped' | 'not-started' | 'retry';

export interface ScheduleDto {
  id: string;
  jobId: string;
  jobName: string;
  cron: string;
  /** The cron expression in words ("At 02:00, Monday through Friday"). */
  description: string;
  enabled: boolean;
  /**
   * When it runs next; null while disabled. A time in the past is due: it runs
   * once as soon as the desktop app or `dbferry ui` runs.
   */
  nextRunAt: string | null;
  /** The time zone the cron is read in: that of the machine running dbferry. */
  timeZone: string;
  /** When it last started a run. */
  lastRunAt: string | null;
  /** The run it started last, as it stands now. */
  lastRun: { id: string; status: RunStatus; startedAt: string; finishedAt: string | null; error: string | null } | null;
  /** What the scheduler did the last time it was due, and why when it did not start a run. */
  lastOutcome: { kind: ScheduleOutcomeKind; message: string; at: string } | null;
  /** Things to fix before it can run unattended (a password kept for this session only). */
  warnings: string[];
  createdAt: string | null;
  updatedAt: string | null;
}

export type SchedulePreviewDto =
  | { ok: true; cron: string; description: string; nextRuns: string[]; timeZone: string }
  | { ok: false; error: string };

export type Theme = 'system' | 'light' | 'dark';

export interface SettingsDto {
  theme: Theme;
}

export interface CommandOutputs {
  'app/info': AppInfoDto;
  'app/loadDemo': DemoDto;
  'connections/list': ConnectionDto[];
  'connections/save': ConnectionDto;
  'connections/delete': { deleted: boolean };
  'connections/test': ConnectionTestDto;
  'connections/trustHostKey': { knownHosts: string };
  'connections/tables': TableRefDto[];
  'connections/describe': TableDetailDto[];
  'jobs/list': JobDto[];
  'jobs/get': JobDto;
  'jobs/save': JobDto;
  'jobs/delete': { deleted: boolean };
  'jobs/duplicate': JobDto;
  'plan/preview': PlanDto;
  'runs/start': { runId: string };
  'runs/cancel': { cancelled: boolean };
  'runs/resume': { runId: string };
  'runs/list': RunDto[];
  'runs/get': RunDetailDto;
  'runs/events': RunEventDto[];
  'deadLetters/list': DeadLetterPageDto;
  'deadLetters/retry': { runId: string };
  'deadLetters/discard': { discarded: number };
  'backups/list': BackupDto[];
  'backups/restore': RestoreResultDto;
  'schedules/list': ScheduleDto[];
  'schedules/save': ScheduleDto;
  'schedules/delete': { deleted: boolean };
  'schedules/preview': SchedulePreviewDto;
  'settings/get': SettingsDto;
  'settings/save': SettingsDto;
}

export type CommandOutput<K extends CommandName> = CommandOutputs[K];

// -- events ------------------------------------------------------------------

export interface ApiEvents {
  /** Every event of every run this process runs, as it happens. */
  'run/event': { runId: string; event: RunEvent };
  /** A run ended (any status). */
  'run/finished': RunSummary;
  /** A run put rows in the dead-letter queue. */
  'deadLetters/added': { runId: string; count: number };
  /** Saved connections, jobs or schedules changed (another window or client, or the scheduler). */
  'data/changed': { what: 'connections' | 'jobs' | 'schedules' };
  /** A schedule was due: the scheduler started a run, skipped the slot (a run of the job was still going), or could not start. */
  'schedule/fired': { scheduleId: string; jobId: string; jobName: string; outcome: ScheduleOutcomeKind; runId?: string; message: string; at: string };
  /** The desktop shell asks its window to show a run (its "run finished" notification was clicked). */
  'app/openRun': { runId: string };
}

export type EventName = keyof ApiEvents;
export const EVENT_NAMES: EventName[] = ['run/event', 'run/finished', 'deadLetters/added', 'data/changed', 'schedule/fired', 'app/openRun'];

// -- errors and envelopes ----------------------------------------------------

export type ApiErrorCode = 'invalid-input' | 'unknown-command' | 'not-found' | 'failed' | 'unavailable';

export interface ApiIssue {
  /** `spec.tables[2].mode`, `name`... */
  path: string;
  message: string;
}

export interface ApiErrorBody {
  code: ApiErrorCode;
  message: string;
  issues?: ApiIssue[];
}

export type ApiResult<T = unknown> = { ok: true; value: T } | { ok: false; error: ApiErrorBody };

export class ApiError extends Error {
  readonly code: ApiErrorCode;
  readonly issues: ApiIssue[];
  constructor(body: ApiErrorBody) {
    super(body.message);
    this.name = 'ApiError';
    this.code = body.code;
    this.issues = body.issues ?? [];
  }
}

/** What the renderer gets as `window.dbferry` (IPC) or builds over WebSocket (browser). */
export interface DbferryBridge {
  /** Resolves with the envelope; never rejects for API errors. */
  invoke(command: string, input: unknown): Promise<ApiResult>;
  /** Subscribe to one event stream; returns the unsubscribe function. */
  on(event: EventName, listener: (payload: unknown) => void): () => void;
}

/**
 * A connection URL as shown to people: no password (already redacted
 * upstream) and no `passwordEnv` naming a variable dbferry set itself.
 */
export function displayUrl(url: string): string {
  return url.replace(/([?&])passwordEnv=DBFERRY_PASSWORD_[A-Z0-9]+(&?)/, (_, lead: string, tail: string) => (tail ? lead : '')).replace(/[?&]$/, '');
}

/** The IPC channel names the preload allow-lists. */
export const IPC_INVOKE = 'dbferry:invoke';
export const IPC_EVENT = 'dbferry:event';
