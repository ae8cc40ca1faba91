import type { Handlers } from '../handlers.js';

export const appHandlers: Pick<Handlers, 'app/info'> = {
  'app/info': (_, ctx) => ({
    mode: ctx.mode,
    version: ctx.version,
    stateDir: ctx.stateDir,
    canSavePasswords: ctx.secrets.persistent,
    features: { resume: true, deadLetterRetry: true, restore: true },
  }),
};
