/**
 * The renderer's one door to the main process, typed by the shared contract.
 * Under Electron the preload provides `window.dbferry` (IPC); in a browser the
 * same bridge is built over HTTP and WebSocket.
 */
import {
  ApiError,
  type ApiEvents,
  type CommandInput,
  type CommandName,
  type CommandOutput,
  type DbferryBridge,
  type EventName,
} from '../../shared/api';
import { createBrowserBridge, type LinkState } from './transport/browserBridge';

declare global {
  interface Window {
    dbferry?: DbferryBridge;
  }
}

type LinkListener = (state: LinkState) => void;
const linkListeners = new Set<LinkListener>();
let link: LinkState = 'open';

function bridge(): DbferryBridge {
  if (window.dbferry) return window.dbferry;
  const token = new URLSearchParams(location.search).get('token') ?? '';
  return createBrowserBridge(token, (state) => {
    link = state;
    for (const l of linkListeners) l(state);
  });
}

const transport = bridge();

export const api = {
  async invoke<K extends CommandName>(command: K, input: CommandInput<K>): Promise<CommandOutput<K>> {
    const result = await transport.invoke(command, input);
    if (!result.ok) throw new ApiError(result.error);
    return result.value as CommandOutput<K>;
  },
  on<E extends EventName>(event: E, listener: (payload: ApiEvents[E]) => void): () => void {
    return transport.on(event, listener as (payload: unknown) => void);
  },
  link: () => link,
  onLink(listener: LinkListener): () => void {
    linkListeners.add(listener);
    return () => linkListeners.delete(listener);
  },
};

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
