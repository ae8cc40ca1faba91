/**
 * The bundled demo, for a first start with nothing saved: the example shop
 * (examples/shop.db) as a SQLite source, a new SQLite file as the target, and
 * the job of examples/demo.json between them.
 *
 * The shop is copied into the state folder (`<state>/demo/shop.db`) and the
 * target is created next to it, so the demo never writes into the
 * installation and works the same from a checkout or a packaged app. Loading
 * it again reuses what it created before.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DemoDto } from '../../../shared/api.js';
import { parseJobSpec } from '../../../shared/jobSpec.js';
import type { ConnectionRecord } from '../../store/connections.js';
import type { ApiContext } from '../context.js';
import { HandlerError } from '../errors.js';
import { withoutPasswords } from '../specs.js';
import { passwordSource, storableUrl, toConnectionDto } from '../connections/urls.js';

export const DEMO_SOURCE_NAME = 'Demo shop';
export const DEMO_TARGET_NAME = 'Demo shop copy';

/** examples/ with the shop and its job, found from wherever this module runs (out/main bundle or src/ under tests). */
export function findDemoDir(from = dirname(fileURLToPath(import.meta.url))): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = join(dir, 'examples');
    if (existsSync(join(candidate, 'shop.db')) && existsSync(join(candidate, 'demo.json'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function connection(ctx: ApiContext, name: string, path: string): ConnectionRecord {
  const { url } = storableUrl(`sqlite:${encodeURI(path)}`, undefined, ctx.baseDir);
  const existing = ctx.connections.findByUrl(url);
  if (existing) return existing;
  return ctx.connections.create({ name, engine: 'sqlite', url, passwordEnv: null });
}

export function loadDemo(ctx: ApiContext, demoDir = findDemoDir()): DemoDto {
  if (!demoDir) throw new HandlerError('unavailable', 'the bundled demo (examples/shop.db and examples/demo.json) is not part of this installation');
  const folder = join(ctx.stateDir, 'demo');
  mkdirSync(folder, { recursive: true });
  const shop = join(folder, 'shop.db');
  if (!existsSync(shop)) copyFileSync(join(demoDir, 'shop.db'), shop);

  const source = connection(ctx, DEMO_SOURCE_NAME, shop);
  const target = connection(ctx, DEMO_TARGET_NAME, join(folder, 'demo-copy.db'));

  const example = JSON.parse(readFileSync(join(demoDir, 'demo.json'), 'utf8')) as Record<string, unknown>;
  const parsed = parseJobSpec({ ...example, source: { url: source.url }, target: { url: target.url } });
  if (!parsed.ok) throw new HandlerError('failed', `examples/demo.json: ${parsed.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  const job = ctx.jobs.list().find((j) => j.name === parsed.spec.name) ?? ctx.jobs.create(withoutPasswords(parsed.spec));

  ctx.emit('data/changed', { what: 'connections' });
  ctx.emit('data/changed', { what: 'jobs' });
  return {
    connections: [source, target].map((r) => toConnectionDto(ctx.connections.get(r.id)!, passwordSource(r, false, ctx.secrets.persistent))),
    job: { ...job, spec: withoutPasswords(job.spec) },
  };
}
