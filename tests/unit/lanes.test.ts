import { availableParallelism, networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { defaultParallel, lanesAllowed, localServerCount } from '../../src/main/engine/workers/lanes.js';
import { jobSpecSchema } from '../../src/shared/jobSpec.js';

const cores = availableParallelism();
const options = (o: Record<string, unknown> = {}) =>
  jobSpecSchema.parse({ name: 'x', source: { url: 'sqlite:a.db' }, target: { url: 'sqlite:b.db' }, tables: [{ source: 't' }], options: o }).options;

describe('default lanes', () => {
  it('counts the database servers that share this machine', () => {
    expect(localServerCount(['postgres://u@127.0.0.1:5432/a', 'mysql://root@localhost:3306/b'])).toBe(2);
    // One server on both sides is one server.
    expect(localServerCount(['postgres://u@127.0.0.1:5432/a', 'postgres://u@127.0.0.1:5432/b'])).toBe(1);
    expect(localServerCount(['postgres://u@[::1]:5433/a', 'sqlite:/tmp/x.db'])).toBe(1);
    expect(localServerCount(['postgres://u@db.example.com:5432/a', 'mysql://u@10.255.255.1:3306/b'])).toBe(0);
    expect(localServerCount(['sqlite:a.db', 'sqlite:b.db'])).toBe(0);
    const own = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal);
    if (own) expect(localServerCount([`mysql://u@${own.address}:3306/b`])).toBe(1);
  });

  it('gives lanes the cores local servers leave, cores + 1 when the servers are elsewhere', () => {
    expect(defaultParallel(false, 0)).toBe(cores + 1);
    expect(defaultParallel(false, 2)).toBe(Math.max(1, cores - 2));
    expect(defaultParallel(false, 1)).toBe(Math.max(1, cores - 1));
    expect(defaultParallel(true, 2)).toBe(Math.max(1, Math.floor(cores / 2)));
  });

  it('lets options.parallel and maxConnections decide over the default', () => {
    expect(lanesAllowed(options({ parallel: 5 }), false, 2)).toBe(5);
    expect(lanesAllowed(options({ parallel: 5, maxConnections: 3 }), false, 2)).toBe(2);
    expect(lanesAllowed(options(), false, 0)).toBe(cores + 1);
    expect(lanesAllowed(options(), false, 2)).toBe(Math.max(1, cores - 2));
  });
});
