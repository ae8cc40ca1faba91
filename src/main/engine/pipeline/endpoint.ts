/**
 * One side of a run: a session that can be reopened after the connection
 * drops (a retried batch goes to a fresh connection).
 */
import type { OpenOptions, Session } from '../dialects/dialect.js';
import { openEndpoint } from '../connect.js';

export class Endpoint {
  private constructor(
    private readonly url: string,
    private readonly options: OpenOptions,
    public session: Session,
  ) {}

  static async open(url: string, options: OpenOptions): Promise<Endpoint> {
    return new Endpoint(url, options, await openEndpoint(url, options));
  }

  async reopen(): Promise<Session> {
    await this.session.close().catch(() => undefined);
    this.session = await openEndpoint(this.url, this.options);
    return this.session;
  }

  close(): Promise<void> {
    return this.session.close();
  }
}
