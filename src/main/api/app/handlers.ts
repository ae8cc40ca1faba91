import type { Handlers } from '../handlers.js';
import { findDemoDir, loadDemo } from './demo.js';

export const appHandlers: Pick<Handlers, 'app/info' | 'app/loadDemo'> = {
  'app/info': (_, ctx) => ({
    mode: ctx.mode,
    version: ctx.version,
    stateDir: ctx.stateDir,
    canSavePasswords: ctx.secrets.persistent,
    sshPassphraseStore: ctx.sshVault.where,
    features: { resume: true, deadLetterRetry: true, restore: true },
    demoAvailable: findDemoDir() !== undefined,
  }),
  'app/loadDemo': (_, ctx) => loadDemo(ctx),
};
