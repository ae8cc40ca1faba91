import { useEffect, useRef, useState } from 'react';
import type { ConnectionTestDto, HostKeyDto, SshHopDto } from '../../../../shared/api';
import { api, messageOf } from '../../api';
import { fmtInt } from '../../components/format';

/** What a Test found: the SSH hop (when there is a tunnel) and the database hop, each on its own line. */
export function TestResult({ pending, result }: { pending: boolean; result?: ConnectionTestDto }) {
  if (pending) return <span className="test-result test-pending" role="status">Connecting…</span>;
  if (!result) return null;
  const database = result.ok ? (
    <span className="test-result test-ok" role="status" data-testid="test-ok">
      <span aria-hidden>●</span> {result.ssh ? 'Database: ' : ''}
      {result.serverVersion} · {result.latencyMs} ms round trip · {fmtInt(result.tableCount)} table{result.tableCount === 1 ? '' : 's'}
    </span>
  ) : result.ssh && !result.ssh.ok ? null : (
    <span className="test-result test-err" role="alert" data-testid="test-error">
      <span aria-hidden>●</span> {result.ssh ? 'Database: ' : ''}
      {result.error}
    </span>
  );
  if (!result.ssh) return database;
  return (
    <div className="test-hops">
      <SshHop hop={result.ssh} />
      {database}
    </div>
  );
}

function SshHop({ hop }: { hop: SshHopDto }) {
  if (hop.ok) {
    return (
      <span className="test-result test-ok" role="status" data-testid="test-ssh-ok">
        <span aria-hidden>●</span> {hop.label}: logged in, host key known · {hop.latencyMs} ms
      </span>
    );
  }
  if (hop.hostKey?.status === 'unknown') {
    return (
      <span className="test-result test-err" role="status" data-testid="test-ssh-unknown">
        <span aria-hidden>●</span> {hop.label}: host key not known yet; check its fingerprint above
      </span>
    );
  }
  return (
    <span className="test-result test-err" role="alert" data-testid="test-ssh-error">
      <span aria-hidden>●</span> {hop.error}
    </span>
  );
}

/** As `ssh` asks on a first connection: the fingerprint, and the user decides. Shown in the form, under the SSH settings. */
export function TrustHostKey({ hostKey, onTrusted }: { hostKey: HostKeyDto; onTrusted?(): void }) {
  const [error, setError] = useState('');
  const ref = useRef<HTMLDivElement>(null);
  // A block body: newer Chromium returns a promise from scrollIntoView, which React would call as the cleanup.
  useEffect(() => {
    void ref.current?.scrollIntoView({ block: 'nearest' });
  }, []);
  const trust = async () => {
    try {
      await api.invoke('connections/trustHostKey', { host: hostKey.host, port: hostKey.port, fingerprint: hostKey.fingerprint });
      onTrusted?.();
    } catch (err) {
      setError(messageOf(err));
    }
  };
  return (
    <div ref={ref} className="host-key" role="alert" data-testid="test-ssh-hostkey">
      <p>
        The SSH host {hostKey.host}:{hostKey.port} is not known yet. Its {hostKey.type} key fingerprint is
      </p>
      <p className="mono fingerprint">{hostKey.fingerprint}</p>
      <p>Trust it only if it matches what the host&apos;s administrator gave you. It will be added to {hostKey.knownHosts}.</p>
      <button type="button" className="btn btn-sm" onClick={() => void trust()}>
        Trust this host key
      </button>
      {error ? <p className="error-text">{error}</p> : null}
    </div>
  );
}
