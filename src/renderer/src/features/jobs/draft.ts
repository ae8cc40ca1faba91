/**
 * The job being built, in the builder's terms, and its conversion to and from
 * the job spec (the JSON a user exports, imports or runs with the CLI).
 */
import { type ColumnRule, type JobOptions, type JobSpec, type JobSpecInput, type Mode, type TableSpec, optionsSchema } from '../../../../shared/jobSpec';

export interface TableDraft {
  source: string;
  /** '' = the default (the source name, without schema across engines). */
  target: string;
  mode: Mode;
  /** [] = the source primary key. */
  key: string[];
  /** [] = every column. */
  columns: string[];
  where: string;
  /** '' = copy everything each run. */
  cursor: string;
  rules: Record<string, ColumnRule>;
  allowLossy: boolean;
  /** Settings the builder has no field for (types, rename, encoding): kept as the spec had them, so saving does not drop them. */
  kept?: Pick<TableSpec, 'types' | 'rename' | 'encoding'>;
}

export interface JobDraft {
  jobId?: string;
  name: string;
  sourceUrl: string;
  targetUrl: string;
  /** "*": every table of the source, whatever it holds at run time. */
  allTables: boolean;
  tables: TableDraft[];
  options: JobOptions;
}

export const defaultOptions = (): JobOptions => optionsSchema.parse({});

export function newDraft(): JobDraft {
  return { name: '', sourceUrl: '', targetUrl: '', allTables: false, tables: [], options: defaultOptions() };
}

export function newTable(source: string, hasKey: boolean): TableDraft {
  return { source, target: '', mode: hasKey ? 'upsert' : 'replace', key: [], columns: [], where: '', cursor: '', rules: {}, allowLossy: false };
}

function cleanRules(rules: Record<string, ColumnRule>): Record<string, ColumnRule> | undefined {
  const out: Record<string, ColumnRule> = {};
  for (const [col, rule] of Object.entries(rules)) {
    const r = Object.fromEntries(Object.entries(rule).filter(([, v]) => v !== undefined && v !== '' && v !== false)) as ColumnRule;
    if (Object.keys(r).length) out[col] = r;
  }
  return Object.keys(out).length ? out : undefined;
}

export function toSpec(d: JobDraft): JobSpecInput {
  return {
    name: d.name.trim() || 'unnamed job',
    source: { url: d.sourceUrl },
    target: { url: d.targetUrl },
    tables: d.allTables
      ? '*'
      : d.tables.map((t) => ({
          source: t.source,
          ...(t.target.trim() ? { target: t.target.trim() } : {}),
          mode: t.mode,
          ...(t.key.length ? { key: t.key } : {}),
          ...(t.columns.length ? { columns: t.columns } : {}),
          ...(t.where.trim() ? { where: t.where.trim() } : {}),
          ...(t.cursor ? { incremental: { cursor: t.cursor } } : {}),
          ...(cleanRules(t.rules) ? { rules: cleanRules(t.rules) } : {}),
          ...(t.allowLossy ? { allowLossy: true } : {}),
          ...t.kept,
        })),
    options: d.options,
  };
}

export function fromSpec(spec: JobSpec, jobId?: string): JobDraft {
  return {
    jobId,
    name: spec.name,
    sourceUrl: spec.source.url,
    targetUrl: spec.target.url,
    allTables: spec.tables === '*',
    tables:
      spec.tables === '*'
        ? []
        : spec.tables.map((t) => ({
            source: t.source,
            target: t.target ?? '',
            mode: t.mode,
            key: t.key ?? [],
            columns: t.columns ?? [],
            where: t.where ?? '',
            cursor: t.incremental?.cursor ?? '',
            rules: t.rules ?? {},
            allowLossy: t.allowLossy ?? false,
            ...(t.types || t.rename || t.encoding ? { kept: { ...(t.types ? { types: t.types } : {}), ...(t.rename ? { rename: t.rename } : {}), ...(t.encoding ? { encoding: t.encoding } : {}) } } : {}),
          })),
    options: spec.options,
  };
}

/** Across engines a schema-qualified source ("public.orders") lands as its bare name. */
export function defaultTarget(source: string, sourceEngine?: string, targetEngine?: string): string {
  if (sourceEngine === 'postgres' && targetEngine === 'postgres') return source;
  const dot = source.lastIndexOf('.');
  return dot >= 0 ? source.slice(dot + 1) : source;
}
