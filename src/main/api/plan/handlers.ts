import { errorMessage } from '../../engine/errors.js';
import { planJob } from '../engine.js';
import type { Handlers } from '../handlers.js';
import { scrubSecrets } from '../secrets.js';
import { resolveSpec } from '../specs.js';

export const planHandlers: Pick<Handlers, 'plan/preview'> = {
  'plan/preview': async (input, ctx) => {
    try {
      const plan = await planJob(resolveSpec(ctx, input.spec), { baseDir: ctx.baseDir, diff: input.diff === true });
      return { ok: plan.ok, tables: plan.tables, warnings: plan.warnings, problems: [...plan.problems, ...plan.accessProblems] };
    } catch (err) {
      // A plan that cannot be made is an answer, not a crash: show why.
      return { ok: false, tables: [], warnings: [], problems: [scrubSecrets(errorMessage(err), ctx.secrets.known())] };
    }
  },
};
