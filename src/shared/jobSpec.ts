/**
 * The job spec: the contract between users, the CLI, the app and the engine.
 * Parsed once at the boundary; everything inside trusts the parsed type.
 */
import { z } from 'zod';
import { redactUrl } from './connectionUrl.js';

const identifier = z.string().min(1, 'must not be empty');

export const MODES = ['replace', 'append', 'upsert', 'mirror'] as const;
export type Mode = (typeof MODES)[number];

const connectionUrl = z
  .string()
  .min(1, 'must not be empty')
  .refine((u) => /^(postgres|postgresql|mysql|mariadb|sqlite):/i.test(u), {
    message: 'must start with postgres://, mysql://, mariadb:// or sqlite:',
  });

/**
 * An SSH tunnel to reach a database behind a bastion host. Only names of
 * secrets belong here (files, environment variables), never the secrets.
 */
export const sshSchema = z.strictObject({
  host: z.string().min(1, 'must not be empty'),
  port: z.number().int().min(1).max(65535).default(22),
  user: z.string().min(1, 'must not be empty'),
  /** Path of a private key file (OpenSSH or PEM); relative to the job file's folder. */
  privateKey: z.string().min(1).optional(),
  /** Environment variable holding the private key's passphrase. */
  passphraseEnv: z.string().min(1).optional(),
  /** Where the OS keychain holds the private key's passphrase (Linux Secret Service via secret-tool, macOS keychain). */
  passphraseKeychain: z.strictObject({ service: z.string().min(1, 'must not be empty'), account: z.string().min(1, 'must not be empty') }).optional(),
  /** Environment variable holding the SSH password. */
  passwordEnv: z.string().min(1).optional(),
  /** Use the running ssh-agent ($SSH_AUTH_SOCK); the default when neither a key nor a password is given. */
  agent: z.boolean().optional(),
  /** known_hosts file the host key is checked against (default ~/.ssh/known_hosts). */
  knownHosts: z.string().min(1).optional(),
});

export const endpointSchema = z.strictObject({
  url: connectionUrl,
  /** Schema (PostgreSQL) the tables live in when a name is not qualified. */
  schema: z.string().min(1).optional(),
  /** Reach the server through an SSH tunnel (PostgreSQL, MySQL/MariaDB). */
  ssh: sshSchema.optional(),
});

export const columnRuleSchema = z.strictObject({
  min: z.union([z.number(), z.string()]).optional(),
  max: z.union([z.number(), z.string()]).optional(),
  pattern: z.string().optional(),
  oneOf: z.array(z.union([z.string(), z.number(), z.boolean()])).optional(),
  notNull: z.boolean().optional(),
  maxLength: z.number().int().nonnegative().optional(),
});

export const tableSpecSchema = z.strictObject({
  source: identifier,
  target: identifier.optional(),
  mode: z.enum(MODES).default('upsert'),
  key: z.array(identifier).min(1).optional(),
  columns: z.array(identifier).min(1).optional(),
  where: z.string().min(1).optional(),
  incremental: z.strictObject({ cursor: identifier }).optional(),
  rules: z.record(z.string(), columnRuleSchema).optional(),
  /** Per-column target type override, in the target's dialect: {"price": "text"}. */
  types: z.record(z.string(), z.string().min(1)).optional(),
  /** Accept mappings that cannot hold every source value exactly. */
  allowLossy: z.boolean().optional(),
  /** Source column → target column name: {"a_very_long_name": "short_name"}. */
  rename: z.record(z.string(), identifier).optional(),
  /**
   * How a SQLite source's TEXT bytes are decoded: "latin1" (ISO-8859-1) or "windows-1252", for text an
   * old application wrote in that encoding. Without it, text that is not UTF-8 is dead-lettered.
   */
  encoding: z.enum(['latin1', 'windows-1252']).optional(),
});

const percentOrCount = z.union([
  z.number().int().nonnegative(),
  z.string().regex(/^\d+(\.\d+)?%$/, 'must be a count or a percentage like "1%"'),
]);

export const ISOLATION_LEVELS = ['serializable', 'repeatable-read', 'read-committed'] as const;

export const optionsSchema = z.strictObject({
  createTables: z.boolean().default(true),
  /**
   * What a table the run creates gets besides its columns and primary key: "full", its indexes, unique
   * and foreign keys, defaults and generated key, built once its rows are in; "tables", nothing more.
   */
  schema: z.enum(['full', 'tables']).default('full'),
  /**
   * A unique index over MySQL text of a case-insensitive (_ci) collation, into PostgreSQL or SQLite, which
   * compare text as it is: "keep" builds it case-sensitive (the plan warns that 'a' and 'A' may then both be
   * stored); "lower" builds it on lower(column) in PostgreSQL, with COLLATE NOCASE in SQLite.
   */
  caseInsensitiveUnique: z.enum(['keep', 'lower']).default('keep'),
  /** Chunks copied at once (default: cores + 1). */
  parallel: z.number().int().min(1).max(64).optional(),
  /** Rows per key-range chunk of a big table (default: enough chunks for every lane, 100k to 1M rows each). */
  chunkRows: z.number().int().min(1).optional(),
  /** Connections dbferry opens to each server at most, its own included (default: parallel + 1). */
  maxConnections: z.number().int().min(1).max(256).optional(),
  isolation: z
    .strictObject({
      source: z.enum(['repeatable-read', 'serializable']).default('repeatable-read'),
      target: z.enum(ISOLATION_LEVELS).default('serializable'),
    })
    .prefault({}),
  onInvalidRow: z.enum(['dead-letter', 'fail']).default('dead-letter'),
  maxInvalidRows: percentOrCount.default('1%'),
  batch: z
    .strictObject({
      maxRows: z.number().int().min(1).default(50_000),
      maxBytes: z.number().int().min(1024).default(8_000_000),
    })
    .prefault({}),
  rateLimit: z
    .strictObject({
      rowsPerSecond: z.number().nonnegative().default(0),
      bytesPerSecond: z.number().nonnegative().default(0),
    })
    .prefault({}),
  retries: z
    .strictObject({
      max: z.number().int().min(0).default(5),
      baseDelayMs: z.number().int().min(0).default(250),
    })
    .prefault({}),
  timeouts: z
    .strictObject({
      statementMs: z.number().int().min(0).default(600_000),
      runMs: z.number().int().min(0).default(0),
    })
    .prefault({}),
  backups: z
    .strictObject({
      enabled: z.boolean().default(true),
      keep: z.number().int().min(0).default(5),
    })
    .prefault({}),
  verify: z.enum(['none', 'count', 'checksum']).default('checksum'),
  /**
   * Compare before copying (upsert and mirror into a table that exists, with a one-column integer key):
   * both servers hash key ranges first and only the ranges that differ are staged. "auto" falls back to
   * the full copy when more than half of the rows differ; "always" never does; "never" copies every row.
   */
  compare: z.enum(['auto', 'always', 'never']).default('auto'),
  /** Check rows against the target's types and the rules before writing (off: the database alone decides). */
  validate: z.boolean().default(true),
});

export const notifySchema = z.strictObject({
  webhook: z.url().optional(),
});

export const jobSpecSchema = z.strictObject({
  name: z.string().min(1).default('unnamed job'),
  source: endpointSchema,
  target: endpointSchema,
  tables: z.union([z.literal('*'), z.array(tableSpecSchema).min(1, 'list at least one table, or "*"')]),
  options: optionsSchema.prefault({}),
  notify: notifySchema.optional(),
});

export type JobSpecInput = z.input<typeof jobSpecSchema>;
export type JobSpec = z.output<typeof jobSpecSchema>;
export type TableSpec = z.output<typeof tableSpecSchema>;
export type JobOptions = z.output<typeof optionsSchema>;
export type ColumnRule = z.output<typeof columnRuleSchema>;
export type SshSpec = z.output<typeof sshSchema>;

export interface SpecProblem {
  path: string;
  message: string;
}

export type SpecParseResult = { ok: true; spec: JobSpec } | { ok: false; problems: SpecProblem[] };

/** `tables[2].mode` style paths, as a user reads them in their JSON file. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(the job)';
}

function problemMessage(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `expected ${issue.expected}, got ${describe(issue.input)}`;
    case 'too_small':
      if (issue.origin === 'array') return `needs at least ${String(issue.minimum)} item${issue.minimum === 1 ? '' : 's'}`;
      if (issue.origin === 'string') return 'must not be empty';
      return `must be at least ${String(issue.minimum)}`;
    case 'too_big':
      return `must be at most ${String(issue.maximum)}`;
    default:
      return issue.message;
  }
}

/**
 * A union's issues are per alternative; report the alternative the input
 * came closest to (the one whose problems sit deepest), so a user reads
 * `tables[0].mode: expected one of …` rather than "invalid input".
 */
function flattenIssues(issues: readonly z.core.$ZodIssue[], prefix: PropertyKey[] = []): SpecProblem[] {
  const out: SpecProblem[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length) {
      const atRoot = issue.errors.every((branch) => branch.every((i) => i.path.length === 0));
      if (atRoot) {
        const missing = issue.errors.some((branch) => branch.some((i) => i.code === 'invalid_type' && i.input === undefined));
        const alternatives = issue.errors.map((branch) => problemMessage(branch[0]).replace(/^expected (one of )?/, '').replace(/, got .*$/, ''));
        out.push({ path: formatPath(path), message: missing ? 'is required' : `expected ${alternatives.join(' or ')}` });
        continue;
      }
      const depth = (branch: readonly z.core.$ZodIssue[]) => Math.max(...branch.map((i) => i.path.length + (i.code === 'invalid_type' ? 0 : 0.5)));
      const best = [...issue.errors].sort((a, b) => depth(b) - depth(a))[0];
      out.push(...flattenIssues(best, path));
    } else {
      out.push({ path: formatPath(path), message: problemMessage(issue) });
    }
  }
  return out;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'string' ? `the string ${JSON.stringify(redactUrl(v))}` : typeof v;
}

/** Parse a job spec; every problem is reported at once, each with its path. */
export function parseJobSpec(input: unknown): SpecParseResult {
  const result = jobSpecSchema.safeParse(input, { reportInput: true });
  if (!result.success) {
    return { ok: false, problems: flattenIssues(result.error.issues) };
  }
  const problems = crossFieldProblems(result.data);
  return problems.length ? { ok: false, problems } : { ok: true, spec: result.data };
}

function crossFieldProblems(spec: JobSpec): SpecProblem[] {
  const problems: SpecProblem[] = [];
  for (const role of ['source', 'target'] as const) {
    if (spec[role].ssh && /^sqlite:/i.test(spec[role].url)) {
      problems.push({ path: `${role}.ssh`, message: 'a SQLite file is opened on this machine, not through an SSH tunnel; remove "ssh" or use a server URL' });
    }
  }
  if (spec.tables === '*') return problems;
  const targets = new Map<string, number>();
  spec.tables.forEach((t, i) => {
    const target = (t.target ?? t.source).toLowerCase();
    const prev = targets.get(target);
    if (prev !== undefined) {
      problems.push({
        path: `tables[${i}].target`,
        message: `"${t.target ?? t.source}" is also the target of tables[${prev}]; give each table its own target`,
      });
    } else targets.set(target, i);
    if (t.columns && t.key) {
      for (const k of t.key) {
        if (!t.columns.includes(k)) {
          problems.push({
            path: `tables[${i}].key`,
            message: `key column "${k}" is not in "columns"; add it there`,
          });
        }
      }
    }
    if (t.incremental && (t.mode === 'replace' || t.mode === 'mirror')) {
      problems.push({
        path: `tables[${i}].incremental`,
        message: `an incremental cursor copies only new rows, which cannot ${t.mode === 'replace' ? 'replace' : 'mirror'} a table; use mode "upsert" or "append"`,
      });
    }
  });
  return problems;
}
