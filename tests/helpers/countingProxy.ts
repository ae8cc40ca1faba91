/**
 * A TCP proxy on loopback in front of a database server, for tests of what a
 * run says over a remote link: it records every request turn of every
 * connection (a client message after the server's answer: one network round
 * trip), when each connection opened, and the bytes each way.
 */
import net from 'node:net';

export interface Turn {
  conn: number;
  /** PostgreSQL frontend message type ('Q' simple query, 'P' parse, '' startup). */
  type: string;
  text: string;
}

export interface CountingProxy {
  port: number;
  turns: Turn[];
  /** When each connection opened, counted in turns of the whole conversation so far. */
  connects: number[];
  /** Bytes from the server to the client, and from the client to the server. */
  down(): number;
  up(): number;
  reset(): void;
  close(): Promise<void>;
}

export async function countingProxy(port: number): Promise<CountingProxy> {
  const turns: Turn[] = [];
  const connects: number[] = [];
  let down = 0;
  let up = 0;
  const sockets = new Set<net.Socket>();
  let ids = 0;
  const server = net.createServer((client) => {
    const conn = ++ids;
    connects.push(turns.length);
    const upstream = net.connect({ host: '127.0.0.1', port });
    sockets.add(client).add(upstream);
    let answered = true;
    client.on('data', (chunk: Buffer) => {
      up += chunk.length;
      if (answered) {
        const startup = chunk.length >= 8 && chunk[0] === 0;
        turns.push({ conn, type: startup ? '' : String.fromCharCode(chunk[0]), text: startup ? '' : chunk.subarray(5).toString('utf8').replace(/\0/g, ' ') });
      }
      answered = false;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      down += chunk.length;
      answered = true;
      client.write(chunk);
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    turns,
    connects,
    down: () => down,
    up: () => up,
    reset() {
      down = 0;
      up = 0;
      turns.length = 0;
      connects.length = 0;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** The same URL with its port replaced (a server reached through a proxy). */
export function through(url: string, port: number): string {
  const u = new URL(url);
  u.port = String(port);
  return u.toString();
}
