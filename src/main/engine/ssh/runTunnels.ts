/**
 * A run's SSH tunnels: one per endpoint that has `ssh`, open for the whole
 * run, shared by every lane (threads included: they connect to its local port).
 */
import { parseConnectionUrl } from '../../../shared/connectionUrl.js';
import type { JobSpec } from '../../../shared/jobSpec.js';
import { Tunnel } from './tunnel.js';

export type Role = 'source' | 'target';

export class RunTunnels {
  private constructor(private readonly byRole: Partial<Record<Role, Tunnel>>) {}

  static async open(spec: JobSpec, baseDir: string): Promise<RunTunnels> {
    const tunnels = new RunTunnels({});
    try {
      for (const role of ['source', 'target'] as const) {
        const ssh = spec[role].ssh;
        const info = parseConnectionUrl(spec[role].url);
        if (!ssh || info.engine === 'sqlite') continue;
        tunnels.byRole[role] = await Tunnel.open(ssh, { host: info.host, port: info.port }, { baseDir });
      }
    } catch (err) {
      await tunnels.close();
      throw err;
    }
    return tunnels;
  }

  /** The local end a role's connections go to, if it has a tunnel. */
  address(role: Role): { host: string; port: number; label: string } | undefined {
    const tunnel = this.byRole[role];
    return tunnel && { ...tunnel.address, label: tunnel.label };
  }

  tunnel(role: Role): Tunnel | undefined {
    return this.byRole[role];
  }

  async close(): Promise<void> {
    await Promise.allSettled(Object.values(this.byRole).map((t) => t.close()));
  }
}
