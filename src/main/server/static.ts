/**
 * The built renderer (out/renderer). index.html gets the token appended to its
 * asset URLs, since a browser does not repeat a page's query on the requests
 * it makes for scripts and styles.
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8',
};

/** out/renderer, found from wherever this module runs (out/main bundle or src/ under tests). */
export function findRendererDir(from = dirname(fileURLToPath(import.meta.url))): string | undefined {
  let dir = from;
  for (;;) {
    for (const candidate of [join(dir, 'out', 'renderer'), ...(dir.endsWith(`${sep}out`) ? [join(dir, 'renderer')] : [])]) {
      if (existsSync(join(candidate, 'index.html'))) return candidate;
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

export function withToken(html: string, token: string): string {
  const q = encodeURIComponent(token);
  return html.replace(/(\s(?:src|href))="(\.?\/?assets\/[^"?#]+)"/g, (_, attr: string, path: string) => `${attr}="${path}?token=${q}"`);
}

export async function serveStatic(res: ServerResponse, rootDir: string, pathname: string, token: string): Promise<void> {
  const root = resolve(rootDir);
  const rel = pathname === '/' ? 'index.html' : decodeURIComponent(pathname).replace(/^\/+/, '');
  const file = normalize(join(root, rel));
  if (!file.startsWith(root + sep)) return notFound(res);
  try {
    const info = await stat(file);
    if (!info.isFile()) return notFound(res);
  } catch {
    return notFound(res);
  }
  const type = TYPES[extname(file)] ?? 'application/octet-stream';
  let body = await readFile(file);
  if (rel === 'index.html') body = Buffer.from(withToken(body.toString('utf8'), token));
  res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length });
  res.end(body);
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end('not found');
}
