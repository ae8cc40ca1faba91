/**
 * The browser mode's HTTP server: the renderer as static files, the API as
 * `POST /api/<feature>/<action>` (JSON in, the API envelope out) and events on
 * the `/events` WebSocket. Loopback only; every request needs the token.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApiErrorCode, ApiResult } from '../../shared/api.js';
import type { Router } from '../api/router.js';
import { type Gate, check, newToken } from './auth.js';
import { createEventHub } from './events.js';
import { securityHeaders, sendJson } from './headers.js';
import { serveStatic } from './static.js';

export const HOST = '127.0.0.1';
const MAX_BODY = 16 * 1024 * 1024;

export interface ServerOptions {
  router: Router;
  rendererDir?: string;
  /** 0 or omitted: a free port. */
  port?: number;
  token?: string;
}

export interface RunningServer {
  /** The URL to open, token included. */
  url: string;
  origin: string;
  port: number;
  token: string;
  server: Server;
  close(): Promise<void>;
}

const STATUS: Record<ApiErrorCode, number> = {
  'invalid-input': 400,
  'unknown-command': 404,
  'not-found': 404,
  failed: 422,
  unavailable: 501,
};

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('request body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function handleApi(router: Router, command: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'POST') {
    res.setHeader('Allow', 'POST');
    return sendJson(res, 405, { ok: false, error: { code: 'invalid-input', message: 'API commands are sent with POST' } });
  }
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
    // Also keeps cross-site "simple" form posts out: they cannot send this content type.
    return sendJson(res, 415, { ok: false, error: { code: 'invalid-input', message: 'send the input as application/json' } });
  }
  let input: unknown;
  try {
    const body = await readBody(req);
    input = body.trim() ? JSON.parse(body) : {};
  } catch (err) {
    return sendJson(res, 400, { ok: false, error: { code: 'invalid-input', message: `the request body is not JSON: ${(err as Error).message}` } });
  }
  const result: ApiResult = await router.handle(command, input);
  sendJson(res, result.ok ? 200 : STATUS[result.error.code], result);
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const token = opts.token ?? newToken();
  const gate: Gate = { token, port: 0 };
  const server = createServer();
  const hub = createEventHub(opts.router, gate);

  server.on('request', (req, res) => {
    securityHeaders(res, gate.port);
    const url = new URL(req.url ?? '/', `http://${HOST}`);
    const verdict = check(req, url, gate);
    if (!verdict.ok) {
      res.writeHead(verdict.status, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(verdict.reason);
      return;
    }
    const api = /^\/api\/([A-Za-z]+\/[A-Za-z]+)$/.exec(url.pathname);
    const work = api
      ? handleApi(opts.router, api[1]!, req, res)
      : req.method === 'GET' || req.method === 'HEAD'
        ? opts.rendererDir
          ? serveStatic(res, opts.rendererDir, url.pathname, token)
          : Promise.resolve(void res.writeHead(404).end('the renderer is not built: run npm run build'))
        : Promise.resolve(void res.writeHead(405).end());
    work.catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: { code: 'failed', message: (err as Error).message } });
      else res.destroy();
    });
  });
  server.on('upgrade', (req, socket, head) => hub.upgrade(req, socket, head));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  gate.port = (server.address() as AddressInfo).port;
  const origin = `http://${HOST}:${gate.port}`;

  return {
    url: `${origin}/?token=${encodeURIComponent(token)}`,
    origin,
    port: gate.port,
    token,
    server,
    async close() {
      hub.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
