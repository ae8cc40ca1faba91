/**
 * The one router: every command the UI can send, each input parsed with zod
 * once, each answer a plain DTO in an envelope. IPC and the browser-mode
 * server both call `handle` and forward `subscribe`d events.
 */
import { z } from 'zod';
import { type ApiIssue, type ApiResult, type CommandName, commands } from '../../shared/api.js';
import { formatPath } from '../../shared/jobSpec.js';
import { errorMessage } from '../engine/errors.js';
import { appHandlers } from './app/handlers.js';
import { backupHandlers } from './backups/handlers.js';
import { connectionHandlers } from './connections/handlers.js';
import { type ApiContext, type ContextOptions, type EventListener, createContext } from './context.js';
import { deadLetterHandlers } from './deadLetters/handlers.js';
import { HandlerError } from './errors.js';
import type { Handler, Handlers } from './handlers.js';
import { jobHandlers } from './jobs/handlers.js';
import { planHandlers } from './plan/handlers.js';
import { refollowQueuedRuns, runHandlers, startQueuedScheduledRun } from './runs/handlers.js';
import { scheduleHandlers } from './schedules/handlers.js';
import { startScheduledRun } from './schedules/start.js';
import { scrubSecrets } from './secrets.js';
import { settingsHandlers } from './settings/handlers.js';
import { type ScheduleFired, type ScheduleRunner, Scheduler } from '../queue/scheduler.js';

const handlers: Handlers = {
  ...appHandlers,
  ...connectionHandlers,
  ...jobHandlers,
  ...planHandlers,
  ...runHandlers,
  ...deadLetterHandlers,
  ...backupHandlers,
  ...scheduleHandlers,
  ...settingsHandlers,
};

export interface Router {
  readonly context: ApiContext;
  handle(command: string, input: unknown): Promise<ApiResult>;
  subscribe(listener: EventListener): () => void;
  /**
   * Starts saved jobs on their schedules once the host process calls start() (the app, `dbferry ui`):
   * this process's clock, or, on a queue, BullMQ job schedulers in Redis.
   */
  readonly scheduler: ScheduleRunner;
  /** Stop the scheduler, cancel the runs in progress and wait for them to roll back. */
  close(): Promise<void>;
}

function isCommand(name: string): name is CommandName {
  return Object.hasOwn(commands, name);
}

function issueMessage(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? 'is required' : `expected ${issue.expected}, got ${issue.input === null ? 'null' : typeof issue.input}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    default:
      return issue.message;
  }
}

export function toIssues(error: z.ZodError): ApiIssue[] {
  // A problem with the input as a whole (not one field) is reported at "(input)".
  return error.issues.map((issue) => ({ path: issue.path.length > 0 ? formatPath(issue.path) : '(input)', message: issueMessage(issue) }));
}

export function createRouter(options: ContextOptions): Router {
  const listeners = new Set<EventListener>();
  const context = createContext(options, listeners);
  const scrub = (text: string) => scrubSecrets(text, [...context.secrets.known(), ...context.sshVault.known()]);
  const onChange = (fired?: ScheduleFired) => {
    if (fired) context.emit('schedule/fired', fired);
    context.emit('data/changed', { what: 'schedules' });
  };
  const queued = context.queued;
  const scheduler: ScheduleRunner = queued?.scheduler
    ? queued.scheduler({
        store: context.store,
        schedules: context.schedules,
        jobs: context.jobs,
        baseDir: context.baseDir,
        startScheduled: (spec, opts) => startQueuedScheduledRun(context, spec, opts),
        scrub,
        log: options.scheduler?.log,
        retry: options.scheduler?.retry,
        onChange,
      })
    : new Scheduler({
        ...options.scheduler,
        store: context.store,
        schedules: context.schedules,
        jobs: context.jobs,
        startJob: (job) => startScheduledRun(context, job),
        scrub,
        onChange,
      });
  context.wakeScheduler = () => scheduler.wake();
  // On a queue: runs this app stopped following when it last closed are followed again.
  void refollowQueuedRuns(context).catch((err: unknown) => options.scheduler?.log?.(`could not follow the queued runs again: ${errorMessage(err)}`));

  async function handle(command: string, input: unknown): Promise<ApiResult> {
    if (!isCommand(command)) {
      return { ok: false, error: { code: 'unknown-command', message: `unknown command "${command}"` } };
    }
    const parsed = commands[command].safeParse(input ?? {});
    if (!parsed.success) {
      const issues = toIssues(parsed.error);
      const first = issues[0]!;
      const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
      return {
        ok: false,
        error: { code: 'invalid-input', message: `${command}: ${first.path}: ${first.message}${more}`, issues },
      };
    }
    try {
      const handler = handlers[command] as Handler<CommandName>;
      const value = await handler(parsed.data as never, context);
      return { ok: true, value };
    } catch (err) {
      const message = scrubSecrets(errorMessage(err), [...context.secrets.known(), ...context.sshVault.known()]);
      if (err instanceof HandlerError) return { ok: false, error: { code: err.code, message } };
      return { ok: false, error: { code: 'failed', message } };
    }
  }

  return {
    context,
    handle,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    scheduler,
    async close() {
      await scheduler.stop();
      const active = [...context.activeRuns.values()];
      for (const run of active) run.controller.abort();
      await Promise.allSettled(active.map((r) => r.done));
    },
  };
}
