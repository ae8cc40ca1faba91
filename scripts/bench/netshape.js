// A shaping TCP proxy on loopback, for the bench's remote profile: the
// servers as a DBA's workstation reaches them over a network, where bytes cost
// more than CPU. One Link is the workstation's connection, full duplex:
//
//   rate   each direction at most `mbit` Mbit/s: a token bucket (BURST bytes
//          deep) per direction, shared by every connection through the link
//          (all lanes, source and target alike), as one network card is;
//   delay  every byte arrives `delayMs` after it left (one way; the round
//          trip is twice that);
//   bytes  counted per direction and per listener.
//
// Each direction is a FIFO: a chunk leaves when the bucket has its bytes
// (tokens may go negative, so a later chunk never leaves before an earlier
// one), and is delivered delayMs later. A socket whose chunks wait past
// QUEUE_BYTES is paused, as a full TCP window would hold its sender.
import net from 'node:net';
import { performance } from 'node:perf_hooks';

const BURST = 64 * 1024;
const SLICE = 16 * 1024;
const QUEUE_BYTES = 1024 * 1024;

class Direction {
  constructor(bytesPerSecond, delayMs) {
    this.rate = bytesPerSecond;
    this.delayMs = delayMs;
    this.tokens = BURST;
    this.last = performance.now();
    this.queue = [];
    this.head = 0;
    this.timer = undefined;
    this.bytes = 0;
  }

  /** When n bytes handed over now leave (ms, performance.now() clock). */
  departure(n) {
    const now = performance.now();
    this.tokens = Math.min(BURST, this.tokens + ((now - this.last) * this.rate) / 1000);
    this.last = now;
    this.tokens -= n;
    return this.tokens >= 0 ? now : now + (-this.tokens * 1000) / this.rate;
  }

  send(from, to, chunk, counter) {
    for (let off = 0; off < chunk.length; off += SLICE) {
      const piece = chunk.subarray(off, Math.min(chunk.length, off + SLICE));
      this.bytes += piece.length;
      counter.bytes += piece.length;
      const at = this.departure(piece.length) + this.delayMs;
      this.queue.push({ at, to, piece, from });
      from.waiting = (from.waiting ?? 0) + piece.length;
    }
    if (from.waiting > QUEUE_BYTES && !from.isPaused()) from.pause();
    this.arm();
  }

  arm() {
    if (this.timer || this.head >= this.queue.length) return;
    const wait = Math.max(0, this.queue[this.head].at - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, wait);
  }

  flush() {
    const now = performance.now();
    while (this.head < this.queue.length && this.queue[this.head].at <= now + 0.5) {
      const { to, piece, from } = this.queue[this.head++];
      if (!to.destroyed) to.write(piece);
      from.waiting -= piece.length;
      if (from.isPaused() && from.waiting < QUEUE_BYTES / 2 && !from.destroyed) from.resume();
    }
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.arm();
  }

  /** Once everything queued is delivered: an end or a close goes after the data, as on a wire. */
  after(fn) {
    const last = this.queue[this.queue.length - 1];
    const wait = this.head < this.queue.length ? Math.max(0, last.at - performance.now()) + 1 : this.delayMs;
    setTimeout(fn, wait);
  }
}

/** A link: the workstation's network connection, `mbit` Mbit/s each way, `delayMs` each way. */
export class Link {
  constructor({ mbit = 100, delayMs = 5 } = {}) {
    this.mbit = mbit;
    this.delayMs = delayMs;
    this.up = new Direction((mbit * 1e6) / 8, delayMs); // client → server
    this.down = new Direction((mbit * 1e6) / 8, delayMs); // server → client
    this.servers = [];
    this.counters = new Map();
  }

  /** Bytes each way since the last reset, in total and per listener name. */
  bytes() {
    const per = {};
    for (const [name, c] of this.counters) per[name] = { up: c.up.bytes, down: c.down.bytes };
    return { up: this.up.bytes, down: this.down.bytes, total: this.up.bytes + this.down.bytes, per };
  }

  reset() {
    this.up.bytes = 0;
    this.down.bytes = 0;
    for (const c of this.counters.values()) {
      c.up.bytes = 0;
      c.down.bytes = 0;
    }
  }

  /** A loopback port behind this link that forwards to host:port; resolves with the port. */
  async listen(name, host, port) {
    const counter = { up: { bytes: 0 }, down: { bytes: 0 } };
    this.counters.set(name, counter);
    const sockets = new Set();
    const server = net.createServer((client) => {
      const upstream = net.connect({ host, port });
      sockets.add(client);
      sockets.add(upstream);
      client.setNoDelay(true);
      upstream.setNoDelay(true);
      client.on('data', (chunk) => this.up.send(client, upstream, chunk, counter.up));
      upstream.on('data', (chunk) => this.down.send(upstream, client, chunk, counter.down));
      client.on('end', () => this.up.after(() => upstream.end()));
      upstream.on('end', () => this.down.after(() => client.end()));
      const close = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on('error', () => this.up.after(close));
      upstream.on('error', () => this.down.after(close));
      client.on('close', () => this.up.after(close));
      upstream.on('close', () => this.down.after(close));
    });
    server.sockets = sockets;
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    this.servers.push(server);
    return server.address().port;
  }

  async close() {
    for (const s of this.servers) {
      for (const sock of s.sockets) sock.destroy();
      await new Promise((r) => s.close(r));
    }
    this.servers = [];
  }
}
