/** The job spec's "ssh" block: defaults, every problem by path, and no tunnel to a SQLite file. */
import { describe, expect, it } from 'vitest';
import { parseJobSpec } from '../../src/shared/jobSpec.js';

const base = { target: { url: 'sqlite:out.db' }, tables: '*' };

describe('job spec: ssh', () => {
  it('takes host, user and a way to log in; the port defaults to 22', () => {
    const r = parseJobSpec({ ...base, source: { url: 'postgres://app@10.0.0.5/shop', ssh: { host: 'bastion', user: 'deploy', privateKey: '~/.ssh/id_ed25519', passphraseEnv: 'KEY_PASS' } } });
    expect(r.ok && r.spec.source.ssh).toEqual({ host: 'bastion', port: 22, user: 'deploy', privateKey: '~/.ssh/id_ed25519', passphraseEnv: 'KEY_PASS' });
  });

  it('lists every problem by path, and refuses secrets written into the spec', () => {
    const r = parseJobSpec({ ...base, source: { url: 'mysql://root@db/shop', ssh: { host: '', port: 70000, password: 'hunter2' } } });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problems).toEqual([
      { path: 'source.ssh.host', message: 'must not be empty' },
      { path: 'source.ssh.port', message: 'must be at most 65535' },
      { path: 'source.ssh.user', message: 'is required' },
      { path: 'source.ssh', message: 'unknown field "password"' },
    ]);
  });

  it('refuses a tunnel to a SQLite file', () => {
    const r = parseJobSpec({ source: { url: 'postgres://app@db/shop' }, target: { url: 'sqlite:out.db', ssh: { host: 'bastion', user: 'deploy' } }, tables: '*' });
    expect(!r.ok && r.problems).toEqual([{ path: 'target.ssh', message: 'a SQLite file is opened on this machine, not through an SSH tunnel; remove "ssh" or use a server URL' }]);
  });
});
