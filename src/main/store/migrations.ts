/**
 * Versioned schema of the local state store. Append new migrations; never edit
 * a released one. The version lives in PRAGMA user_version.
 */
export const MIGRATIONS: string[] = [
  // 1: the walking skeleton
  `
  CREATE TABLE connections (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    engine TEXT NOT NULL,
    url TEXT NOT NULL,              -- never holds a password
    password_env TEXT,
    secret BLOB,                    -- encrypted by the desktop app's safeStorage; NULL in browser mode
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    spec_json TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    job_id TEXT,
    job_name TEXT NOT NULL,
    spec_json TEXT NOT NULL,        -- redacted: no passwords
    base_dir TEXT NOT NULL,
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    status TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    rows_read INTEGER NOT NULL DEFAULT 0,
    rows_written INTEGER NOT NULL DEFAULT 0,
    rows_dead_lettered INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    summary_json TEXT,
    pid INTEGER
  );
  CREATE INDEX runs_started ON runs (started_at);
  CREATE TABLE run_events (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    at TEXT NOT NULL,
    type TEXT NOT NULL,
    event_json TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
  );
  CREATE TABLE checkpoints (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    table_index INTEGER NOT NULL,
    staging_table TEXT NOT NULL,
    checkpoint_json TEXT NOT NULL,  -- last staged batch, its last key, row counts
    done INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (run_id, table_index)
  );
  CREATE TABLE dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT REFERENCES runs (id) ON DELETE CASCADE,
    table_index INTEGER,
    table_name TEXT,
    columns_json TEXT,
    key_json TEXT,
    row_json TEXT,
    reasons_json TEXT NOT NULL,
    stage TEXT NOT NULL,
    batch INTEGER,                  -- the staged batch it came in; NULL for apply
    status TEXT NOT NULL DEFAULT 'open',   -- open | pending | retried | discarded | rolled-back
    created_at TEXT NOT NULL
  );
  CREATE INDEX dead_letters_run ON dead_letters (run_id, status);
  CREATE TABLE backups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    target_url TEXT NOT NULL,       -- redacted
    target_table TEXT NOT NULL,
    kind TEXT NOT NULL,             -- created | table | rows | keys
    record_json TEXT NOT NULL,      -- what restore needs: backup table names, key, columns
    created_at TEXT NOT NULL,
    restored_at TEXT,
    dropped_at TEXT
  );
  CREATE INDEX backups_target ON backups (target_url, target_table, created_at);
  CREATE TABLE schedules (
    id TEXT PRIMARY KEY,
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    cron TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    last_run_at TEXT,
    next_run_at TEXT
  );
  CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value_json TEXT NOT NULL
  );
  `,
  // 2: what the scheduler (src/main/queue) records about each schedule
  `
  ALTER TABLE schedules ADD COLUMN created_at TEXT;
  ALTER TABLE schedules ADD COLUMN updated_at TEXT;
  ALTER TABLE schedules ADD COLUMN last_run_id TEXT;       -- the run it started last (runs.id; the run may since be deleted)
  ALTER TABLE schedules ADD COLUMN last_outcome TEXT;      -- started | skipped | not-started | retry
  ALTER TABLE schedules ADD COLUMN last_outcome_at TEXT;
  ALTER TABLE schedules ADD COLUMN last_message TEXT;      -- why it was skipped, could not start, or will retry
  ALTER TABLE schedules ADD COLUMN retries INTEGER NOT NULL DEFAULT 0;  -- retries of a transient failure since the last regular slot
  CREATE INDEX schedules_job ON schedules (job_id);
  `,
  // 3: a connection's SSH tunnel settings (JSON of the job spec's "ssh" block: names of secrets only)
  `
  ALTER TABLE connections ADD COLUMN ssh_json TEXT;
  `,
  // 4: an SSH key passphrase the desktop app remembers: encrypted by safeStorage, never in clear
  `
  ALTER TABLE connections ADD COLUMN ssh_secret BLOB;
  `,
];
