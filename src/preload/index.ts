/**
 * The sandboxed preload: exposes `window.dbferry` (invoke a command, listen to
 * an event stream) and nothing else. Must stay CommonJS and import nothing at
 * run time but electron; the main side parses every input.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { ApiResult, DbferryBridge, EventName } from '../shared/api.js';

const INVOKE = 'dbferry:invoke';
const EVENT = 'dbferry:event';
const EVENTS: ReadonlySet<string> = new Set<EventName>(['run/event', 'run/finished', 'deadLetters/added', 'data/changed', 'schedule/fired', 'app/openRun']);

const bridge: DbferryBridge = {
  invoke(command, input) {
    if (typeof command !== 'string' || !/^[A-Za-z]+\/[A-Za-z]+$/.test(command)) {
      return Promise.resolve<ApiResult>({ ok: false, error: { code: 'unknown-command', message: `unknown command "${String(command)}"` } });
    }
    return ipcRenderer.invoke(INVOKE, command, input) as Promise<ApiResult>;
  },
  on(event, listener) {
    if (!EVENTS.has(event)) throw new Error(`unknown event stream "${String(event)}"`);
    const handler = (_e: IpcRendererEvent, name: string, payload: unknown) => {
      if (name === event) listener(payload);
    };
    ipcRenderer.on(EVENT, handler);
    return () => {
      ipcRenderer.removeListener(EVENT, handler);
    };
  },
};

contextBridge.exposeInMainWorld('dbferry', bridge);
