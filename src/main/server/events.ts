/** The WebSocket side: authenticated upgrades on /events, and every API event pushed to every client. */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { Router } from '../api/router.js';
import { type Gate, check } from './auth.js';

/** Past this much unsent data a slow client misses progress events (it still gets the rest). */
const MAX_BUFFERED = 4 * 1024 * 1024;

export interface EventHub {
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  close(): void;
}

export function createEventHub(router: Router, gate: Gate): EventHub {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });

  const unsubscribe = router.subscribe((event, payload) => {
    const isProgress = event === 'run/event' && (payload as { event: { type: string } }).event.type === 'progress';
    const text = JSON.stringify({ event, payload }, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    for (const client of wss.clients) {
      if (client.readyState !== WebSocket.OPEN) continue;
      if (isProgress && client.bufferedAmount > MAX_BUFFERED) continue;
      client.send(text);
    }
  });

  wss.on('connection', (ws) => {
    // The socket only receives; anything sent to it is ignored.
    ws.on('message', () => {});
  });

  return {
    upgrade(req, socket, head) {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const verdict = url.pathname === '/events' ? check(req, url, gate) : ({ ok: false, status: 403, reason: 'not found' } as const);
      if (!verdict.ok) {
        const text = verdict.status === 401 ? 'Unauthorized' : 'Forbidden';
        socket.end(`HTTP/1.1 ${verdict.status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n${verdict.reason}`);
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    },
    close() {
      unsubscribe();
      for (const client of wss.clients) client.terminate();
      wss.close();
    },
  };
}
