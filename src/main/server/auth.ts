/**
 * Who may talk to the browser-mode server: a request must carry the random
 * token (header, Bearer or `?token=`), name this server as Host (no DNS
 * rebinding), and come from this server's own origin when it says where it
 * comes from.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

export interface Gate {
  token: string;
  port: number;
}

export type Verdict = { ok: true } | { ok: false; status: 401 | 403; reason: string };

export function tokenOf(req: IncomingMessage, url: URL): string | undefined {
  const header = req.headers['x-dbferry-token'];
  if (typeof header === 'string' && header) return header;
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice('Bearer '.length).trim();
  return url.searchParams.get('token') ?? undefined;
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function allowedOrigins(port: number): string[] {
  return [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
}

export function check(req: IncomingMessage, url: URL, gate: Gate): Verdict {
  const host = req.headers.host;
  if (!host || !allowedOrigins(gate.port).includes(`http://${host}`)) {
    return { ok: false, status: 403, reason: `requests must be addressed to 127.0.0.1:${gate.port}` };
  }
  const origin = req.headers.origin;
  if (origin !== undefined && !allowedOrigins(gate.port).includes(origin)) {
    return { ok: false, status: 403, reason: `requests from ${origin} are not allowed` };
  }
  const token = tokenOf(req, url);
  if (!token) return { ok: false, status: 401, reason: 'a token is required: open the URL dbferry ui printed' };
  if (!sameToken(token, gate.token)) return { ok: false, status: 403, reason: 'wrong token: open the URL dbferry ui printed' };
  return { ok: true };
}
