/**
 * Saved jobs: a name and a job spec. Specs are stored without passwords; their
 * URLs refer to saved connections, whose passwords are resolved at run time.
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { JobSpec } from '../../shared/jobSpec.js';
import { now } from './store.js';

export interface JobRecord {
  id: string;
  name: string;
  spec: JobSpec;
  createdAt: string;
  updatedAt: string;
}

interface JobRow {
  id: string;
  name: string;
  spec_json: string;
  created_at: string;
  updated_at: string;
}

function toRecord(r: JobRow): JobRecord {
  return { id: r.id, name: r.name, spec: JSON.parse(r.spec_json) as JobSpec, createdAt: r.created_at, updatedAt: r.updated_at };
}

export class Jobs {
  constructor(private readonly db: Database.Database) {}

  list(): JobRecord[] {
    return (this.db.prepare('SELECT * FROM jobs ORDER BY updated_at DESC').all() as JobRow[]).map(toRecord);
  }

  get(id: string): JobRecord | undefined {
    const row = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
    return row && toRecord(row);
  }

  create(spec: JobSpec): JobRecord {
    const id = randomUUID();
    const at = now();
    this.db
      .prepare('INSERT INTO jobs (id, name, spec_json, created_at, updated_at) VALUES (?, ?, ?, ?, ?)')
      .run(id, spec.name, JSON.stringify(spec), at, at);
    return this.get(id)!;
  }

  update(id: string, spec: JobSpec): JobRecord | undefined {
    this.db.prepare('UPDATE jobs SET name = ?, spec_json = ?, updated_at = ? WHERE id = ?').run(spec.name, JSON.stringify(spec), now(), id);
    return this.get(id);
  }

  delete(id: string): boolean {
    return this.db.prepare('DELETE FROM jobs WHERE id = ?').run(id).changes > 0;
  }
}
