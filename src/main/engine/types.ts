/**
 * The engine's vocabulary: logical column types every dialect maps to and
 * from, the canonical values rows carry between dialects, and table shapes.
 *
 * Canonical values (what every reader yields and every writer accepts):
 *   integer    number when a safe integer, else bigint (never a lossy JS number)
 *   decimal    string, exact as the source printed it ("12.50")
 *   float      number
 *   boolean    boolean
 *   text, enum string;  uuid string (lower case);  json string (JSON text)
 *   binary     Uint8Array (Buffer)
 *   date       "YYYY-MM-DD"
 *   time       "HH:MM:SS[.ffffff]"
 *   timestamp  "YYYY-MM-DD HH:MM:SS[.ffffff]"          (no time zone)
 *   timestamptz"YYYY-MM-DD HH:MM:SS[.ffffff]+00:00"    (always UTC)
 *   any        whatever the source holds (SQLite's dynamic typing)
 *   null       NULL
 */
export type Value = null | string | number | bigint | boolean | Uint8Array;
export type Row = Value[];

export type LogicalType =
  | { kind: 'integer'; bytes: 1 | 2 | 3 | 4 | 8; unsigned?: boolean }
  | { kind: 'decimal'; precision?: number; scale?: number }
  | { kind: 'float'; bytes: 4 | 8 }
  | { kind: 'boolean' }
  | { kind: 'text'; maxLength?: number; fixed?: boolean }
  | { kind: 'binary'; maxLength?: number; fixed?: boolean }
  | { kind: 'date' }
  | { kind: 'time'; precision?: number }
  | { kind: 'timestamp'; withTimeZone: boolean; precision?: number }
  /** `parsed`: stored parsed, keys ordered and duplicates dropped (PostgreSQL jsonb); its values are already in that form. */
  | { kind: 'json'; parsed?: boolean }
  | { kind: 'uuid' }
  | { kind: 'enum'; values: string[] }
  | { kind: 'any' };

export type TypeKind = LogicalType['kind'];

/** A table name; `schema` only where the engine has schemas (PostgreSQL). */
export interface TableName {
  schema?: string;
  name: string;
}

export interface Column {
  name: string;
  /** The type as the engine spells it, e.g. "numeric(12,2)", "tinyint(1) unsigned". */
  nativeType: string;
  type: LogicalType;
  nullable: boolean;
  /** A text column's collation, as the engine names it, where it orders text its own way (MySQL's utf8mb4_general_ci). */
  collation?: string;
  /** A generated (computed) column: its expression as the engine prints it, and whether it is stored or computed when read. Never written to. */
  generated?: { expression: string; stored: boolean };
  /** A SQLite source column's TEXT bytes are decoded from this encoding (the table's "encoding"), not read as UTF-8. */
  encoding?: 'latin1' | 'windows-1252';
}

export interface ForeignKey {
  columns: string[];
  references: TableName;
  referencedColumns: string[];
}

export interface TableInfo {
  name: TableName;
  columns: Column[];
  primaryKey: string[];
  uniqueKeys: string[][];
  foreignKeys: ForeignKey[];
  /** The engine's estimate, not a count; undefined when it has none. */
  rowEstimate?: number;
  /** On-disk size the engine reports for the table (data, not indexes); undefined when it has none. */
  byteEstimate?: number;
  /**
   * A PostgreSQL table whose rows live (also) in other tables: its declarative
   * partitions, or its inheritance children. Reading the table reads them all;
   * estimates above are over all of them. `tables` are their labels, nested ones included.
   */
  partitions?: { kind: 'partitioned' | 'inheritance'; tables: string[] };
  /** A declarative partition or an inheritance child: its parent's label (reading it reads only its own rows). */
  partitionOf?: string;
}

/** What a target column will be, and what it cannot hold exactly. */
export interface TypeMapping {
  nativeType: string;
  /** Why some source values would change; undefined when the mapping is exact. */
  lossy?: string;
}

export function tableLabel(name: TableName): string {
  return name.schema ? `${name.schema}.${name.name}` : name.name;
}
