/**
 * known_hosts as OpenSSH reads it: plain and hashed names, [host]:port, wildcards and negations,
 * @revoked; a missing file knows no host.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KnownHosts, fingerprint } from '../../src/main/engine/ssh/knownHosts.js';

/** A fake ed25519 public key blob: the type string, then 32 bytes. */
function blob(seed: number): Buffer {
  const type = Buffer.from('ssh-ed25519');
  const key = Buffer.alloc(32, seed);
  const len = (n: number) => Buffer.from([0, 0, 0, n]);
  return Buffer.concat([len(type.length), type, len(32), key]);
}
const A = { type: 'ssh-ed25519', blob: blob(1) };
const B = { type: 'ssh-ed25519', blob: blob(2) };
const line = (hosts: string, k = A) => `${hosts} ${k.type} ${k.blob.toString('base64')}`;

function file(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'dbferry-kh-')), 'known_hosts');
  writeFileSync(path, text);
  return path;
}

describe('known_hosts', () => {
  it('matches plain names, [host]:port for other ports, and comma lists', () => {
    const kh = KnownHosts.load(file(`# comment\n${line('bastion,10.0.0.5')}\n${line('[db.example]:2222', B)}\n`));
    expect(kh.check('bastion', 22, A)).toEqual({ status: 'known' });
    expect(kh.check('10.0.0.5', 22, A)).toEqual({ status: 'known' });
    expect(kh.check('bastion', 2200, A)).toEqual({ status: 'unknown' });
    expect(kh.check('db.example', 2222, B)).toEqual({ status: 'known' });
    expect(kh.check('db.example', 2222, A)).toEqual({ status: 'changed', line: 3 });
  });

  it('matches hashed names (HashKnownHosts yes)', () => {
    const salt = randomBytes(20);
    const hash = createHmac('sha1', salt).update('[bastion]:2022').digest('base64');
    const kh = KnownHosts.load(file(`${line(`|1|${salt.toString('base64')}|${hash}`)}\n`));
    expect(kh.check('bastion', 2022, A)).toEqual({ status: 'known' });
    expect(kh.check('bastion', 22, A)).toEqual({ status: 'unknown' });
  });

  it('honours wildcards, negations and @revoked', () => {
    const kh = KnownHosts.load(file(`${line('*.internal,!evil.internal')}\n@revoked ${line('db.internal', B)}\n`));
    expect(kh.check('db.internal', 22, A)).toEqual({ status: 'known' });
    expect(kh.check('evil.internal', 22, A)).toEqual({ status: 'unknown' });
    expect(kh.check('db.internal', 22, B)).toEqual({ status: 'revoked', line: 2 });
  });

  it('knows nothing from a missing file, and adds a key as ssh does', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'dbferry-kh-')), 'sub', 'known_hosts');
    expect(KnownHosts.load(path).check('bastion', 22, A)).toEqual({ status: 'unknown' });
    KnownHosts.add(path, 'bastion', 2222, A);
    expect(readFileSync(path, 'utf8')).toBe(`${line('[bastion]:2222')}\n`);
    expect(KnownHosts.load(path).check('bastion', 2222, A)).toEqual({ status: 'known' });
    expect(fingerprint(A.blob)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});
