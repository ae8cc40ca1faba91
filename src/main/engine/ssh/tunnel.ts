/**
 * An SSH tunnel to one database server: one SSH connection, and a listener on
 * 127.0.0.1 (an ephemeral port) whose every connection is forwarded through
 * it (direct-tcpip, as `ssh -L` does). Database drivers, in this thread or in
 * worker threads, just connect to the listener.
 *
 * The listener outlives the SSH connection: when the SSH connection drops,
 * the forwarded database connections drop with it, the run retries them as
 * it retries any dropped connection, and the next one to arrive logs in to
 * the SSH host again.
 */
import net from 'node:net';
import type ssh2 from 'ssh2';
import type { SshSpec } from '../../../shared/jobSpec.js';
import { FerryError } from '../errors.js';
import { sshLogin, resolvePath, type SshLogin, type SshSecrets } from './auth.js';
import { blobType, defaultKnownHostsPath, fingerprint, hostPattern, keyscanType, KnownHosts, typeLabel, type HostKeyStatus } from './knownHosts.js';

type Client = InstanceType<typeof ssh2.Client>;

export interface TunnelOptions {
  /** Folder relative key and known_hosts paths resolve against (the job file's). */
  baseDir: string;
  secrets?: SshSecrets;
}

/** A host key that is not trusted: what the app shows before asking, and the CLI explains. */
export interface UntrustedHostKey {
  host: string;
  port: number;
  /** known_hosts file it was checked against. */
  knownHosts: string;
  status: 'unknown' | 'changed' | 'revoked';
  type: string;
  fingerprint: string;
  /** The public key, base64 (public: safe to show and to store). */
  key: string;
}

export class SshHostKeyError extends FerryError {
  constructor(readonly hostKey: UntrustedHostKey, message: string, hint: string) {
    super('connection', message, { hint });
    this.name = 'SshHostKeyError';
  }
}

/** How long opening a forwarded connection may take on a live SSH connection. */
const FORWARD_TIMEOUT_MS = 10_000;

const NETWORK = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE']);

/** SSH key types to offer first, so the server shows the key known here (as OpenSSH orders them). */
function preferredHostKeyAlgorithms(types: string[]): string[] {
  return types.flatMap((t) => (t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t]));
}

function hostKeyError(ssh: SshSpec, knownHosts: string, blob: Buffer, check: Exclude<HostKeyStatus, { status: 'known' }>): SshHostKeyError {
  const type = blobType(blob);
  const fp = fingerprint(blob);
  const where = `${ssh.host}:${ssh.port}`;
  const keyscan = `ssh-keyscan${ssh.port === 22 ? '' : ` -p ${ssh.port}`} -t ${keyscanType(type)} ${ssh.host} >> ${knownHosts}`;
  const key: UntrustedHostKey = { host: ssh.host, port: ssh.port, knownHosts, status: check.status, type, fingerprint: fp, key: blob.toString('base64') };
  switch (check.status) {
    case 'unknown':
      return new SshHostKeyError(
        key,
        `the SSH host ${where} is not known: its ${typeLabel(type)} key ${fp} is not in ${knownHosts}`,
        `Check that fingerprint with the host's administrator (on the host: ssh-keygen -lf /etc/ssh/ssh_host_${keyscanType(type)}_key.pub), then add the key: ${keyscan} (or connect once with ssh and answer "yes")`,
      );
    case 'changed':
      return new SshHostKeyError(
        key,
        `the SSH host key of ${where} has CHANGED: it now presents the ${typeLabel(type)} key ${fp}, which does not match line ${check.line} of ${knownHosts}. Someone may be intercepting the connection (man-in-the-middle), or the host was reinstalled`,
        `Only if the host's administrator confirms the new key: remove the old one with ssh-keygen -R '${hostPattern(ssh.host, ssh.port)}' -f ${knownHosts}, then add the new one: ${keyscan}`,
      );
    case 'revoked':
      return new SshHostKeyError(key, `the SSH host key of ${where} (${typeLabel(type)} ${fp}) is marked @revoked on line ${check.line} of ${knownHosts}`, 'dbferry will not connect to a host that presents a revoked key; ask its administrator');
  }
}

/** ssh2's errors, as a user can act on them. */
function loginError(err: unknown, ssh: SshSpec, login: SshLogin | undefined): FerryError {
  const e = err as { code?: string; level?: string; message?: string };
  const at = `SSH ${ssh.user}@${ssh.host}:${ssh.port}`;
  const msg = e.message ?? String(err);
  if (e.level === 'client-authentication') {
    return new FerryError('connection', `${at} refused the login (tried: ${login?.method || 'nothing'})`, {
      hint: ssh.privateKey
        ? `check the user name, and that the public key of ${ssh.privateKey} is in ~${ssh.user}/.ssh/authorized_keys on ${ssh.host}`
        : 'check the user name and the password, or that your key is loaded in ssh-agent and authorized on the host',
      cause: err,
    });
  }
  if (/encrypted private .*key detected, but no passphrase/i.test(msg)) {
    return new FerryError('connection', `the SSH private key "${ssh.privateKey}" is encrypted and no passphrase was given`, {
      hint: 'name the environment variable that holds it with "passphraseEnv", or its OS keychain entry with "passphraseKeychain" (or type it in the app)',
      cause: err,
    });
  }
  if (/bad passphrase|integrity check failed|Failed to decrypt/i.test(msg)) {
    return new FerryError('connection', `the passphrase for the SSH private key "${ssh.privateKey}" is wrong`, { cause: err });
  }
  if (/Cannot parse privateKey|Unsupported key format/i.test(msg)) {
    return new FerryError('connection', `"${ssh.privateKey}" is not a private key dbferry can read: ${msg.replace(/^Cannot parse privateKey: /, '')}`, {
      hint: 'use an OpenSSH or PEM private key file (not the .pub file)',
      cause: err,
    });
  }
  if ((e.code && NETWORK.has(e.code)) || /timed out|handshake/i.test(msg)) {
    return new FerryError('connection', `cannot reach ${at}: ${msg}`, {
      hint: 'check the SSH host and port, and that it is reachable from this machine (VPN, firewall)',
      transient: true,
      cause: err,
    });
  }
  return new FerryError('connection', `${at}: ${msg}`, { transient: true, cause: err });
}

/**
 * ssh2, loaded when a tunnel is first opened: loading it costs ~50 ms, which
 * every run and every lane paid at start, with or without SSH.
 */
let ssh2Module: Promise<typeof ssh2> | undefined;
function loadSsh2(): Promise<typeof ssh2> {
  ssh2Module ??= import('ssh2').then((m) => (m as { default?: typeof ssh2 }).default ?? (m as unknown as typeof ssh2));
  return ssh2Module;
}

/** Log in to the SSH host, checking its key against known_hosts. */
export async function connectSsh(ssh: SshSpec, options: TunnelOptions): Promise<Client> {
  const { Client } = await loadSsh2();
  const knownHostsPath = ssh.knownHosts ? resolvePath(ssh.knownHosts, options.baseDir) : defaultKnownHostsPath();
  const known = KnownHosts.load(knownHostsPath);
  const login = sshLogin(ssh, options.baseDir, options.secrets);
  return new Promise((resolve, reject) => {
    const client = new Client();
    let refused: FerryError | undefined;
    let settled = false;
    const fail = (err: FerryError) => {
      if (settled) return;
      settled = true;
      client.end();
      reject(err);
    };
    client.on('error', (err) => fail(refused ?? loginError(err, ssh, login)));
    client.once('close', () => fail(refused ?? new FerryError('connection', `SSH ${ssh.host}:${ssh.port} closed the connection during login`, { transient: true })));
    client.once('ready', () => {
      settled = true;
      resolve(client);
    });
    const known_types = known.typesFor(ssh.host, ssh.port);
    try {
      client.connect({
        host: ssh.host,
        port: ssh.port,
        username: login.username,
        privateKey: login.privateKey,
        passphrase: login.passphrase,
        password: login.password,
        agent: login.agent,
        readyTimeout: 20_000,
        // A dead SSH connection is noticed within ~30 s even when no database traffic flows.
        keepaliveInterval: 10_000,
        keepaliveCountMax: 3,
        algorithms: known_types.length ? { serverHostKey: { prepend: preferredHostKeyAlgorithms(known_types), append: [], remove: [] } as never } : undefined,
        hostVerifier: (blob: Buffer) => {
          const check = known.check(ssh.host, ssh.port, { type: blobType(blob), blob });
          if (check.status === 'known') return true;
          refused = hostKeyError(ssh, knownHostsPath, blob, check);
          return false;
        },
      });
    } catch (err) {
      fail(loginError(err, ssh, login));
    }
  });
}

/** This thread's open tunnels by local port: a failed database hop through one can say why. */
const open = new Map<number, Tunnel>();

export class Tunnel {
  /** The tunnel listening on this local port in this thread, if any. */
  static at(port: number): Tunnel | undefined {
    return open.get(port);
  }

  private client?: Client;
  private connecting?: Promise<Client>;
  private readonly server = net.createServer((socket) => this.forward(socket));
  private readonly sockets = new Set<net.Socket>();
  private readonly through = new Map<Client, Set<net.Socket>>();
  private closed = false;
  /** Why the last forwarded connection failed on the SSH side, for messages. */
  lastError?: FerryError;

  private constructor(
    private readonly ssh: SshSpec,
    /** The database server, as the SSH host sees it. */
    private readonly to: { host: string; port: number },
    private readonly options: TunnelOptions,
  ) {}

  /** Logs in to the SSH host first: host key and login problems surface before any database hop. */
  static async open(ssh: SshSpec, to: { host: string; port: number }, options: TunnelOptions): Promise<Tunnel> {
    const tunnel = new Tunnel(ssh, to, options);
    await tunnel.connection();
    try {
      await new Promise<void>((resolve, reject) => {
        tunnel.server.once('error', reject);
        tunnel.server.listen(0, '127.0.0.1', () => resolve());
      });
      open.set(tunnel.address.port, tunnel);
    } catch (err) {
      await tunnel.close();
      throw err;
    }
    return tunnel;
  }

  get address(): { host: string; port: number } {
    const a = this.server.address() as net.AddressInfo;
    return { host: '127.0.0.1', port: a.port };
  }

  /** e.g. "SSH deploy@bastion:22". */
  get label(): string {
    return `SSH ${this.ssh.user}@${this.ssh.host}:${this.ssh.port}`;
  }

  private connection(): Promise<Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= connectSsh(this.ssh, this.options)
      .then((client) => {
        if (this.closed) {
          client.end();
          throw new FerryError('cancelled', 'the SSH tunnel was closed');
        }
        this.client = client;
        const forget = () => {
          if (this.client === client) this.client = undefined;
          // Connections forwarded through a dead SSH connection are dead too: say so at once, not at a timeout.
          for (const s of this.through.get(client) ?? []) s.destroy();
          this.through.delete(client);
        };
        client.on('close', forget);
        client.on('error', forget);
        return client;
      })
      .finally(() => {
        this.connecting = undefined;
      });
    return this.connecting;
  }

  private forward(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.pause();
    this.connection()
      .then(
        (client) =>
          new Promise<ssh2.ClientChannel>((resolve, reject) => {
            const sockets = this.through.get(client) ?? new Set();
            this.through.set(client, sockets);
            sockets.add(socket);
            socket.on('close', () => sockets.delete(socket));
            // An SSH connection that died without a word never answers: give it up, and log in again next time.
            const timer = setTimeout(() => {
              client.end();
              client.emit('close');
              reject(new FerryError('connection', `${this.label} did not answer within ${FORWARD_TIMEOUT_MS / 1000} s`, { transient: true }));
            }, FORWARD_TIMEOUT_MS);
            client.forwardOut('127.0.0.1', socket.remotePort ?? 0, this.to.host, this.to.port, (err, stream) => {
              clearTimeout(timer);
              if (err) reject(err);
              else resolve(stream);
            });
          }),
      )
      .then(
        (stream) => {
          this.lastError = undefined;
          if (socket.destroyed) {
            stream.close();
            return;
          }
          stream.on('error', () => socket.destroy());
          stream.on('close', () => socket.destroy());
          socket.on('close', () => stream.close());
          socket.pipe(stream).pipe(socket);
          socket.resume();
        },
        (err: unknown) => {
          this.lastError =
            err instanceof FerryError
              ? err
              : new FerryError('connection', `${this.label} cannot reach ${this.to.host}:${this.to.port}: ${(err as Error).message}`, {
                  hint: 'check the database host and port as the SSH host sees them',
                  transient: true,
                  cause: err,
                });
          socket.destroy();
        },
      );
  }

  async close(): Promise<void> {
    if (this.server.listening) open.delete(this.address.port);
    this.closed = true;
    for (const s of this.sockets) s.destroy();
    this.client?.end();
    this.client = undefined;
    await new Promise<void>((resolve) => (this.server.listening ? this.server.close(() => resolve()) : resolve()));
  }
}
