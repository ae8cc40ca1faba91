import { performance } from 'node:perf_hooks';
import type { ConnectionTestDto, SshHopDto, TableDetailDto } from '../../../shared/api.js';
import type { ConnectionInfo } from '../../../shared/connectionUrl.js';
import { SshHostKeyError, Tunnel } from '../../engine/ssh/tunnel.js';
import { errorMessage } from '../../engine/errors.js';
import { tableLabel } from '../../engine/types.js';
import type { ConnectionRecord } from '../../store/connections.js';
import type { ApiContext } from '../context.js';
import { notFound } from '../errors.js';
import type { Handlers } from '../handlers.js';
import { scrubSecrets } from '../secrets.js';
import { rememberHostKey, trustHostKey } from './hostKeys.js';
import { sshSecretsOf, sshSessionSecrets } from './sshSecrets.js';
import { HandlerError } from '../errors.js';
import { connectionInfo, openSession, withPassword, withSession } from './sessions.js';
import { passwordSource, storableUrl, toConnectionDto } from './urls.js';

function record(ctx: ApiContext, id: string): ConnectionRecord {
  const r = ctx.connections.get(id);
  if (!r) throw notFound('connection', id);
  return r;
}

function dto(ctx: ApiContext, r: ConnectionRecord) {
  const out = toConnectionDto(r, passwordSource(r, ctx.secrets.get(r.id) !== undefined, ctx.secrets.persistent));
  const remembered = Boolean(r.ssh?.privateKey && ctx.sshVault.get(r.id) !== undefined);
  const typed = Boolean(r.ssh && sshSessionSecrets.get(r.id));
  return { ...out, ...(typed || remembered ? { sshSecretTyped: true } : {}), ...(remembered ? { sshPassphraseRemembered: true } : {}) };
}

/** Typed SSH secrets of a form, over those already known for the connection. */
function typedSsh(ctx: ApiContext, input: { id?: string; sshPassword?: string; sshPassphrase?: string }) {
  const known = input.id ? sshSecretsOf(ctx, input.id) : undefined;
  return { password: input.sshPassword || known?.password, passphrase: input.sshPassphrase || known?.passphrase };
}

/**
 * Jobs name their connections by URL: when a connection's URL changes (another
 * host, or its password now from ?passwordEnv=), the saved jobs that used it
 * follow, so that they (and their schedules) keep running against it.
 */
function followConnection(ctx: ApiContext, from: string, to: string): void {
  let moved = 0;
  for (const job of ctx.jobs.list()) {
    const source = job.spec.source.url === from;
    const target = job.spec.target.url === from;
    if (!source && !target) continue;
    ctx.jobs.update(job.id, {
      ...job.spec,
      source: source ? { ...job.spec.source, url: to } : job.spec.source,
      target: target ? { ...job.spec.target, url: to } : job.spec.target,
    });
    moved++;
  }
  if (moved) ctx.emit('data/changed', { what: 'jobs' });
}

/** "Remember passphrase": keep the key's passphrase in the vault, or forget it (no key, no tunnel, or unchecked). */
function rememberPassphrase(ctx: ApiContext, id: string, input: { ssh?: { privateKey?: string }; sshPassphrase?: string; sshRememberPassphrase?: boolean }): void {
  if (!input.ssh?.privateKey || input.sshRememberPassphrase === false) {
    ctx.sshVault.delete(id);
    return;
  }
  if (!input.sshRememberPassphrase) return;
  const passphrase = input.sshPassphrase || sshSessionSecrets.get(id)?.passphrase;
  if (passphrase) ctx.sshVault.set(id, passphrase);
}

export const connectionHandlers: Pick<
  Handlers,
  'connections/list' | 'connections/save' | 'connections/delete' | 'connections/test' | 'connections/trustHostKey' | 'connections/tables' | 'connections/describe'
> = {
  'connections/list': (_, ctx) => ctx.connections.list().map((r) => dto(ctx, r)),

  'connections/save': (input, ctx) => {
    const clean = storableUrl(input.url, input.passwordEnv, ctx.baseDir);
    if (input.sshRememberPassphrase && input.ssh?.privateKey && ctx.sshVault.where === null) {
      throw new HandlerError('invalid-input', 'an SSH passphrase cannot be remembered here (no OS keychain or encrypted store); type it for this session, or name an environment variable that holds it');
    }
    const fields = { name: input.name, engine: clean.info.engine, url: clean.url, passwordEnv: input.passwordEnv ?? null, ssh: input.ssh ?? null };
    const before = input.id ? record(ctx, input.id) : undefined;
    const saved = before ? ctx.connections.update(before.id, fields)! : ctx.connections.create(fields);
    if (before && before.url !== saved.url) followConnection(ctx, before.url, saved.url);
    const password = input.password || clean.password;
    if (input.clearPassword || input.passwordEnv || clean.info.engine === 'sqlite') ctx.secrets.delete(saved.id);
    if (password && !input.passwordEnv && clean.info.engine !== 'sqlite') ctx.secrets.set(saved.id, password);
    if (!input.ssh) sshSessionSecrets.delete(saved.id);
    else sshSessionSecrets.set(saved.id, { password: input.sshPassword || undefined, passphrase: input.sshPassphrase || undefined });
    rememberPassphrase(ctx, saved.id, input);
    ctx.emit('data/changed', { what: 'connections' });
    return dto(ctx, ctx.connections.get(saved.id)!);
  },

  'connections/delete': (input, ctx) => {
    ctx.secrets.delete(input.id);
    sshSessionSecrets.delete(input.id);
    ctx.sshVault.delete(input.id);
    const deleted = ctx.connections.delete(input.id);
    if (deleted) ctx.emit('data/changed', { what: 'connections' });
    return { deleted };
  },

  'connections/test': async (input, ctx) => {
    const typed = [input.password, input.sshPassword, input.sshPassphrase].filter((v): v is string => !!v);
    const scrub = (err: unknown) => scrubSecrets(errorMessage(err), [...ctx.secrets.known(), ...sshSessionSecrets.known(), ...ctx.sshVault.known(), ...typed]);
    const started = performance.now();
    let sshHop: SshHopDto | undefined;
    try {
      // A form being edited: its URL, with the saved connection's password unless a new one is typed.
      const info = input.url
        ? withPassword(
            storableUrl(input.url, input.passwordEnv, ctx.baseDir).info,
            input.password || (input.id && !input.passwordEnv ? ctx.secrets.get(input.id) : undefined),
          )
        : connectionInfo(ctx, record(ctx, input.id!));
      const ssh = input.url ? input.ssh : (record(ctx, input.id!).ssh ?? undefined);
      if (!ssh || info.engine === 'sqlite') return await testDatabase(ctx, info);
      // Two hops, reported apart: the SSH login (host key, credentials), then the database through it.
      let tunnel: Tunnel;
      try {
        tunnel = await Tunnel.open(ssh, { host: info.host, port: info.port }, { baseDir: ctx.baseDir, secrets: typedSsh(ctx, input) });
      } catch (err) {
        const latencyMs = Math.round(performance.now() - started);
        const hostKey = err instanceof SshHostKeyError ? rememberHostKey(err.hostKey) : undefined;
        return { ok: false, error: scrub(err), latencyMs, ssh: { ok: false, label: `SSH ${ssh.user}@${ssh.host}:${ssh.port}`, latencyMs, error: scrub(err), hostKey } };
      }
      sshHop = { ok: true, label: tunnel.label, latencyMs: Math.round(performance.now() - started) };
      try {
        return { ...(await testDatabase(ctx, { ...info, via: tunnel.address })), ssh: sshHop };
      } finally {
        await tunnel.close();
      }
    } catch (err) {
      return { ok: false, error: scrub(err), latencyMs: Math.round(performance.now() - started), ssh: sshHop } satisfies ConnectionTestDto;
    }
  },

  'connections/trustHostKey': (input) => trustHostKey(input.host, input.port, input.fingerprint),

  'connections/tables': async (input, ctx) => {
    const r = record(ctx, input.id);
    const info = connectionInfo(ctx, r);
    return withSession(ctx, info, async (s) => {
      const tables = await s.listTables();
      return tables
        .map((t) => ({ name: tableLabel(t), schema: t.schema }))
        .sort((a, b) => a.name.localeCompare(b.name));
    }, r.ssh, sshSecretsOf(ctx, r.id));
  },

  'connections/describe': async (input, ctx) => {
    const r = record(ctx, input.id);
    const info = connectionInfo(ctx, r);
    return withSession(ctx, info, async (s) => {
      const out: TableDetailDto[] = [];
      for (const name of input.tables) {
        const t = await s.describeTable(s.tableName(name));
        out.push(
          t
            ? {
                name,
                exists: true,
                columns: t.columns.map((c) => ({ name: c.name, nativeType: c.nativeType, kind: c.type.kind, nullable: c.nullable })),
                primaryKey: t.primaryKey,
                rowEstimate: t.rowEstimate,
              }
            : { name, exists: false, columns: [], primaryKey: [] },
        );
      }
      return out;
    }, r.ssh, sshSecretsOf(ctx, r.id));
  },
};

/** The database hop: connect, one round trip (latency as a DBA measures it), count the tables. */
async function testDatabase(ctx: ApiContext, info: ConnectionInfo): Promise<ConnectionTestDto> {
  const session = await openSession(ctx, info);
  try {
    const t0 = performance.now();
    await session.query('SELECT 1');
    const latencyMs = Math.round((performance.now() - t0) * 100) / 100;
    const tables = await session.listTables();
    return { ok: true, serverVersion: session.serverVersion, latencyMs, tableCount: tables.length };
  } finally {
    await session.close().catch(() => {});
  }
}

