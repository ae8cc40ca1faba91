import { useMemo, useState } from 'react';
import type { RunEventDto } from '../../../../shared/api';
import { fmtClock } from '../../components/format';
import { VirtualList } from '../../components/VirtualList';
import { download } from '../jobs/download';
import { type LogLevel, describeEvent, eventLevel, eventTable } from './formatEvent';

type Filter = 'steps' | 'all' | 'problems';

const FILTERS: Record<Filter, (l: LogLevel) => boolean> = {
  steps: (l) => l !== 'debug',
  all: () => true,
  problems: (l) => l === 'error' || l === 'warn',
};

export function JobLog({ runId, events }: { runId: string; events: RunEventDto[] }) {
  const [filter, setFilter] = useState<Filter>('steps');
  const [table, setTable] = useState('');
  const [text, setText] = useState('');
  const tables = useMemo(() => [...new Set(events.map((e) => eventTable(e.event)).filter((t): t is string => Boolean(t)))].sort(), [events]);
  const rows = useMemo(() => {
    const q = text.trim().toLowerCase();
    return events
      .map((e) => ({ ...e, level: eventLevel(e.event), table: eventTable(e.event), text: describeEvent(e.event) }))
      .filter((e) => FILTERS[filter](e.level) && (!table || e.table === table) && (!q || e.text.toLowerCase().includes(q) || e.event.type.includes(q)));
  }, [events, filter, table, text]);

  return (
    <div className="joblog">
      <div className="toolbar">
        <select aria-label="Which events" value={filter} onChange={(e) => setFilter(e.target.value as Filter)}>
          <option value="steps">Steps (hide progress ticks)</option>
          <option value="all">Everything</option>
          <option value="problems">Errors and warnings</option>
        </select>
        <select aria-label="Table" value={table} onChange={(e) => setTable(e.target.value)}>
          <option value="">All tables</option>
          {tables.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
        <input type="search" aria-label="Search the log" placeholder="Search the log" value={text} onChange={(e) => setText(e.target.value)} />
        <span className="muted small grow">
          {rows.length} of {events.length} events
        </span>
        <button
          type="button"
          className="btn btn-sm btn-ghost"
          onClick={() => download(`run-${runId.slice(0, 8)}.jsonl`, events.map((e) => JSON.stringify({ seq: e.seq, at: e.at, ...e.event })).join('\n'), 'application/x-ndjson')}
        >
          Export log
        </button>
      </div>
      <VirtualList
        label="Job log"
        testId="job-log"
        className="log-list"
        items={rows}
        rowHeight={28}
        stickToEnd
        columns="104px 128px minmax(0, 150px) minmax(0, 1fr)"
        header={
          <>
            <span>Time</span>
            <span>Event</span>
            <span>Table</span>
            <span>Message</span>
          </>
        }
        getKey={(e) => e.seq}
        renderRow={(e) => (
          <>
            <span className="mono muted small">{fmtClock(e.at)}</span>
            <span className={`log-type log-${e.level}`}>{e.event.type}</span>
            <span className="mono small ellipsis">{e.table ?? ''}</span>
            <span className="ellipsis" title={e.text}>
              {e.text}
            </span>
          </>
        )}
      />
    </div>
  );
}
