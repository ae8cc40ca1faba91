import type { ConnectionTestDto } from '../../../../shared/api';
import { fmtInt } from '../../components/format';

export function TestResult({ pending, result }: { pending: boolean; result?: ConnectionTestDto }) {
  if (pending) return <span className="test-result test-pending" role="status">Connecting…</span>;
  if (!result) return null;
  if (result.ok) {
    return (
      <span className="test-result test-ok" role="status" data-testid="test-ok">
        <span aria-hidden>●</span> {result.serverVersion} · {result.latencyMs} ms round trip · {fmtInt(result.tableCount)} table{result.tableCount === 1 ? '' : 's'}
      </span>
    );
  }
  return (
    <span className="test-result test-err" role="alert" data-testid="test-error">
      <span aria-hidden>●</span> {result.error}
    </span>
  );
}
