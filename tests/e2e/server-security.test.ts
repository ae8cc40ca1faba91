/**
 * The browser-mode server: loopback only, a token on every request and on the
 * WebSocket, no other origins or hosts, and inputs that fail their schema
 * answered with an error naming the field. Passwords never come back.
 */
import { readFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type BrowserMode, startBrowserMode } from '../../src/main/server/browserMode.js';

let app: BrowserMode;
let stateDir: string;

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'dbferry-e2e-sec-'));
  app = await startBrowserMode({ stateDir });
});

afterAll(async () => {
  await app?.close();
  rmSync(stateDir, { recursive: true, force: true });
});

function api(command: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${app.origin}/api/${command}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Dbferry-Token': app.token, ...headers },
    body: JSON.stringify(body),
  });
}

function rawGet(path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: app.port, path, headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

function wsStatus(url: string, origin?: string): Promise<number | 'open'> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, origin ? { origin } : {});
    ws.on('open', () => {
      ws.close();
      resolve('open');
    });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => resolve(0));
  });
}

describe('browser-mode server', () => {
  it('binds 127.0.0.1 only', async () => {
    const address = app.server.address();
    expect(typeof address === 'object' && address?.address).toBe('127.0.0.1');
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal);
    if (external) {
      const err = await fetch(`http://${external.address}:${app.port}/?token=${app.token}`).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err, `reachable on ${external.address}`).toBeInstanceOf(Error);
    }
  });

  it('refuses pages and API calls without the token (401) or with a wrong one (403)', async () => {
    expect((await fetch(`${app.origin}/`)).status).toBe(401);
    expect((await fetch(`${app.origin}/?token=wrong`)).status).toBe(403);
    expect((await fetch(`${app.origin}/assets/x.js`)).status).toBe(401);
    expect((await api('connections/list', {}, { 'X-Dbferry-Token': '' })).status).toBe(401);
    expect((await api('connections/list', {}, { 'X-Dbferry-Token': `${app.token}x` })).status).toBe(403);
    const ok = await api('connections/list', {});
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ ok: true, value: [] });
  });

  it('serves the app with a strict CSP and the token on its assets', async () => {
    const res = await fetch(app.url);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await res.text();
    const script = /src="(\.\/assets\/[^"]+\.js\?token=[^"]+)"/.exec(html)?.[1];
    expect(script, 'index.html script with token').toBeTruthy();
    expect((await fetch(new URL(script!, app.origin))).status).toBe(200);
  });

  it('refuses other origins and other Host names', async () => {
    expect((await api('connections/list', {}, { Origin: 'http://evil.example' })).status).toBe(403);
    expect((await api('connections/list', {}, { Origin: `http://127.0.0.1:${app.port + 1}` })).status).toBe(403);
    expect((await api('connections/list', {}, { Origin: app.origin })).status).toBe(200);
    expect(await rawGet(`/?token=${app.token}`, { Host: 'attacker.example' })).toBe(403);
    expect(await rawGet(`/?token=${app.token}`, { Host: `127.0.0.1:${app.port}` })).toBe(200);
  });

  it('guards the WebSocket the same way', async () => {
    const ws = `ws://127.0.0.1:${app.port}/events`;
    expect(await wsStatus(ws, app.origin)).toBe(401);
    expect(await wsStatus(`${ws}?token=nope`, app.origin)).toBe(403);
    expect(await wsStatus(`${ws}?token=${app.token}`, 'http://evil.example')).toBe(403);
    expect(await wsStatus(`${ws}?token=${app.token}`, app.origin)).toBe('open');
  });

  it('only takes JSON posts (no cross-site form posts)', async () => {
    const res = await fetch(`${app.origin}/api/connections/list`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Dbferry-Token': app.token },
      body: 'a=b',
    });
    expect(res.status).toBe(415);
  });

  it('answers an input that fails its schema with an error naming the field', async () => {
    const res = await api('connections/save', { name: '', url: 'ftp://somewhere' });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { ok: false; error: { code: string; message: string; issues: { path: string; message: string }[] } };
    expect(body.ok).toBe(false);
    expect(body.error.code).toBe('invalid-input');
    expect(body.error.message).toMatch(/^connections\/save: name: /);
    expect(body.error.issues.map((i) => i.path)).toEqual(expect.arrayContaining(['name', 'url']));

    const job = await api('jobs/save', { spec: { source: { url: 'sqlite:a.db' }, target: { url: 'sqlite:b.db' }, tables: [{ source: 'x', mode: 'sideways' }] } });
    expect(job.status).toBe(400);
    const jobBody = (await job.json()) as { error: { message: string; issues: { path: string; message: string }[] } };
    expect(jobBody.error.issues[0]).toEqual({ path: 'spec.tables[0].mode', message: expect.stringContaining('expected one of') });
    expect(jobBody.error.message).toContain('spec.tables[0].mode');

    const extra = await api('runs/list', { limit: 5, sneaky: true });
    expect(((await extra.json()) as { error: { message: string } }).error.message).toContain('unknown field "sneaky"');

    const unknown = await api('connections/explode', {});
    expect(unknown.status).toBe(404);
  });

  it('never returns or stores a password it was given', async () => {
    const secret = 'Sup3r-Secret-pw!';
    const saved = await api('connections/save', { name: 'with password', url: `postgres://app:${encodeURIComponent(secret)}@127.0.0.1:5432/nowhere` });
    const text = await saved.text();
    expect(saved.status).toBe(200);
    expect(text).not.toContain(secret);
    expect(text).not.toContain(encodeURIComponent(secret));
    expect(JSON.parse(text).value.passwordSource).toBe('session');
    const list = await (await api('connections/list', {})).text();
    expect(list).not.toContain(secret);
    app.store.db.pragma('wal_checkpoint(TRUNCATE)');
    for (const file of ['dbferry.db', 'dbferry.db-wal']) {
      const path = join(stateDir, file);
      if (existsSync(path)) expect(readFileSync(path).includes(secret), file).toBe(false);
    }
  });
});
