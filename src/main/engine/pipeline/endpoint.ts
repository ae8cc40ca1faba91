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

  private reopening?: Promise<Session>;

  /**
   * A new session in place of `failed` (default: the current one). Callers that
   * saw the same session fail at once share one new session, and a caller whose
   * session was already replaced gets the replacement: no connection is left
   * open behind the endpoint's back.
   */
  reopen(failed: Session = this.session): Promise<Session> {
    if (failed !== this.session) return Promise.resolve(this.session);
    this.reopening ??= (async () => {
      try {
        // The old connection is usually dead already: closing it must not hold up the new one.
        void this.session.close().catch(() => undefined);
        this.session = await openEndpoint(this.url, this.options);
        return this.session;
      } finally {
        this.reopening = undefined;
      }
    })();
    return this.reopening;
  }

  /** A second session to the same server, the caller's to close (the apply's progress watcher). */
  openAnother(): Promise<Session> {
    return openEndpoint(this.url, this.options);
  }

  close(): Promise<void> {
    return this.session.close();
  }
}
