/**
 * Index builds in the apply transaction (the new table's key, the indexes the
 * schema carries) sort the table's rows in maintenance_work_mem, 64 MB by
 * default: a million-row index spills to disk in runs and merges them. For the
 * apply transaction only (SET LOCAL), at least 256 MB, as pgloader and
 * pg_restore users set it by hand; a server set higher keeps its own.
 * PostgreSQL's parallel workers of one index build share it.
 */
export const MAINTENANCE_MEMORY =
  "SELECT pg_catalog.set_config('maintenance_work_mem', GREATEST(pg_catalog.pg_size_bytes(pg_catalog.current_setting('maintenance_work_mem')), 268435456) / 1024 || 'kB', true)";
