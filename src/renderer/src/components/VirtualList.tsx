/**
 * A windowed list: renders only the rows in view, so 200 tables or a job log
 * of a 10-million-row run scroll as lightly as ten. Keyboard: focus the list,
 * ↑/↓/PgUp/PgDn/Home/End move, Enter opens.
 */
import { type KeyboardEvent, type ReactNode, useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';

interface Props<T> {
  items: readonly T[];
  rowHeight: number;
  getKey(item: T, index: number): string | number;
  renderRow(item: T, index: number): ReactNode;
  onActivate?(item: T, index: number): void;
  label: string;
  /** CSS grid columns shared by the header and the rows. */
  columns?: string;
  header?: ReactNode;
  className?: string;
  /** Rows kept rendered beyond the viewport on each side. */
  overscan?: number;
  /** Follow the end while the user is at the end (live logs). */
  stickToEnd?: boolean;
  testId?: string;
}

export function VirtualList<T>({ items, rowHeight, getKey, renderRow, onActivate, label, columns, header, className, overscan = 8, stickToEnd, testId }: Props<T>) {
  const scroller = useRef<HTMLDivElement>(null);
  const [viewport, setViewport] = useState(400);
  const [scrollTop, setScrollTop] = useState(0);
  const [active, setActive] = useState(-1);
  const atEnd = useRef(true);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setViewport(el.clientHeight));
    ro.observe(el);
    setViewport(el.clientHeight);
    return () => ro.disconnect();
  }, []);

  useEffect(() => {
    const el = scroller.current;
    if (stickToEnd && el && atEnd.current) el.scrollTop = el.scrollHeight;
  }, [items.length, stickToEnd]);

  const scrollIntoView = useCallback(
    (index: number) => {
      const el = scroller.current;
      if (!el) return;
      const top = index * rowHeight;
      if (top < el.scrollTop) el.scrollTop = top;
      else if (top + rowHeight > el.scrollTop + el.clientHeight) el.scrollTop = top + rowHeight - el.clientHeight;
    },
    [rowHeight],
  );

  function onKeyDown(e: KeyboardEvent) {
    if (!items.length) return;
    const page = Math.max(1, Math.floor(viewport / rowHeight) - 1);
    const moves: Record<string, number> = {
      ArrowDown: active + 1,
      ArrowUp: active - 1,
      PageDown: active + page,
      PageUp: active - page,
      Home: 0,
      End: items.length - 1,
    };
    if (e.key in moves) {
      e.preventDefault();
      const next = Math.max(0, Math.min(items.length - 1, moves[e.key]!));
      setActive(next);
      scrollIntoView(next);
    } else if (e.key === 'Enter' && active >= 0 && onActivate) {
      e.preventDefault();
      onActivate(items[active]!, active);
    }
  }

  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(items.length, Math.ceil((scrollTop + viewport) / rowHeight) + overscan);
  const rows: ReactNode[] = [];
  for (let i = first; i < last; i++) {
    const item = items[i]!;
    rows.push(
      <div
        key={getKey(item, i)}
        id={`${label.replace(/\W+/g, '-')}-row-${i}`}
        role="row"
        aria-rowindex={i + 1}
        className={`vrow${i === active ? ' vrow-active' : ''}${onActivate ? ' vrow-clickable' : ''}`}
        style={{ transform: `translateY(${i * rowHeight}px)`, height: rowHeight, gridTemplateColumns: columns }}
        onClick={() => {
          setActive(i);
          onActivate?.(item, i);
        }}
      >
        {renderRow(item, i)}
      </div>,
    );
  }

  return (
    <div className={`vlist ${className ?? ''}`} data-testid={testId}>
      {header ? (
        <div className="vhead" role="row" style={{ gridTemplateColumns: columns }}>
          {header}
        </div>
      ) : null}
      <div
        ref={scroller}
        className="vscroll"
        role="grid"
        aria-label={label}
        aria-rowcount={items.length}
        aria-activedescendant={active >= 0 ? `${label.replace(/\W+/g, '-')}-row-${active}` : undefined}
        tabIndex={0}
        onKeyDown={onKeyDown}
        onScroll={(e) => {
          const el = e.currentTarget;
          setScrollTop(el.scrollTop);
          atEnd.current = el.scrollTop + el.clientHeight >= el.scrollHeight - rowHeight;
        }}
      >
        <div className="vspace" style={{ height: items.length * rowHeight }}>
          {rows}
        </div>
      </div>
    </div>
  );
}
