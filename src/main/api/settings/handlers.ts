import type { SettingsDto } from '../../../shared/api.js';
import type { ApiContext } from '../context.js';
import type { Handlers } from '../handlers.js';

const DEFAULTS: SettingsDto = { theme: 'system' };

function read(ctx: ApiContext): SettingsDto {
  const row = ctx.store.db.prepare("SELECT value_json FROM settings WHERE key = 'ui'").get() as { value_json: string } | undefined;
  if (!row) return { ...DEFAULTS };
  try {
    return { ...DEFAULTS, ...(JSON.parse(row.value_json) as Partial<SettingsDto>) };
  } catch {
    return { ...DEFAULTS };
  }
}

export const settingsHandlers: Pick<Handlers, 'settings/get' | 'settings/save'> = {
  'settings/get': (_, ctx) => read(ctx),
  'settings/save': (input, ctx) => {
    const next = { ...read(ctx), ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) };
    ctx.store.db
      .prepare("INSERT INTO settings (key, value_json) VALUES ('ui', ?) ON CONFLICT (key) DO UPDATE SET value_json = excluded.value_json")
      .run(JSON.stringify(next));
    return next;
  },
};
