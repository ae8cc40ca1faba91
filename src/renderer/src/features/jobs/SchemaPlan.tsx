import type { PlannedSchemaItem } from '../../../../shared/events';

const FATE: Record<PlannedSchemaItem['fate'], { label: string; className: string }> = {
  carried: { label: 'carried', className: 'ok-text' },
  adapted: { label: 'adapted', className: 'warn-text' },
  'not carried': { label: 'not carried', className: 'error-text' },
  missing: { label: 'missing in the target', className: 'warn-text' },
};

/** A table's indexes, keys, defaults and generated key, and what the run does with each. */
export function SchemaPlan({ items, table }: { items: PlannedSchemaItem[]; table: string }) {
  if (items.length === 0) return null;
  const notCarried = items.filter((i) => i.fate === 'not carried').length;
  const missing = items.filter((i) => i.fate === 'missing').length;
  const adapted = items.filter((i) => i.fate === 'adapted').length;
  const summary = missing ? `${missing} missing in the existing table` : notCarried ? `${notCarried} not carried` : adapted ? `${adapted} adapted, the rest carried` : 'all carried';
  return (
    <details className="plan-schema" open={notCarried + missing > 0} aria-label={`Schema for ${table}`}>
      <summary>
        Schema: {items.length} object{items.length === 1 ? '' : 's'}, {summary}
      </summary>
      <table className="table table-compact">
        <thead>
          <tr>
            <th>Object</th>
            <th>Name</th>
            <th>What</th>
            <th>Fate</th>
          </tr>
        </thead>
        <tbody>
          {items.map((i) => (
            <tr key={`${i.object}:${i.name}:${i.detail}`} className={i.fate === 'not carried' ? 'row-err' : i.fate === 'carried' ? '' : 'row-warn'}>
              <td>{i.object}</td>
              <td className="mono">{i.name}</td>
              <td className="mono muted">{i.detail}</td>
              <td>
                <span className={FATE[i.fate].className}>{FATE[i.fate].label}</span>
                {i.note ? <span className="muted">: {i.note}</span> : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
