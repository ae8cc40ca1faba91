/**
 * The bridge in browser mode (`dbferry ui`): commands as `POST /api/<command>`,
 * events over one WebSocket that reconnects by itself. The token comes from
 * the URL the server printed and goes with every request.
 */
import type { ApiResult, DbferryBridge, EventName } from '../../../shared/api';

export type LinkState = 'connecting' | 'open' | 'closed';

export function createBrowserBridge(token: string, onLink: (state: LinkState) => void): DbferryBridge {
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  let retryMs = 500;

  function connect(): void {
    onLink('connecting');
    const ws = new WebSocket(`ws://${location.host}/events?token=${encodeURIComponent(token)}`);
    ws.onopen = () => {
      retryMs = 500;
      onLink('open');
    };
    ws.onmessage = (m) => {
      const { event, payload } = JSON.parse(String(m.data)) as { event: string; payload: unknown };
      for (const l of listeners.get(event) ?? []) l(payload);
    };
    ws.onclose = () => {
      onLink('closed');
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 8000);
    };
  }
  connect();

  return {
    async invoke(command, input) {
      let res: Response;
      try {
        res = await fetch(`/api/${command}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-Dbferry-Token': token },
          body: JSON.stringify(input ?? {}),
        });
      } catch {
        return { ok: false, error: { code: 'failed', message: 'cannot reach dbferry: is `dbferry ui` still running?' } };
      }
      if (res.status === 401 || res.status === 403) {
        return { ok: false, error: { code: 'failed', message: `refused by dbferry (${await res.text()})` } };
      }
      return (await res.json()) as ApiResult;
    },
    on(event: EventName, listener) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener);
      return () => set.delete(listener);
    },
  };
}
