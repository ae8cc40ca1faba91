/**
 * A windowed list: renders only the rows in view, so 200 tables or a job log
 * of a 10-million-row run scroll as lightly as ten. Keyboard: focus the list,
 * ↑/↓/PgUp/PgDn/Home/End move, Enter opens.
 */
import { Children, cloneElement, Fragment, isValidElement, type KeyboardEvent, type ReactElement, type ReactNode, useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';

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

  const headerRows = header ? 1 : 0;
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
        aria-rowindex={i + 1 + headerRows}
        className={`vrow${i === active ? ' vrow-active' : ''}${onActivate ? ' vrow-clickable' : ''}`}
        style={{ transform: `translateY(${i * rowHeight}px)`, height: rowHeight, gridTemplateColumns: columns }}
        onClick={() => {
          setActive(i);
          onActivate?.(item, i);
        }}
      >
        {cells(renderRow(item, i), 'gridcell')}
      </div>,
    );
  }

  // One grid holds the header and the rows (ARIA: a row belongs to a grid, a cell to a row); it takes the focus.
  return (
    <div className={`vlist ${className ?? ''}`} data-testid={testId}>
      <div
        className="vgrid"
        role="grid"
        aria-label={label}
        aria-rowcount={items.length + headerRows}
        aria-activedescendant={active >= 0 ? `${label.replace(/\W+/g, '-')}-row-${active}` : undefined}
        tabIndex={0}
        onKeyDown={onKeyDown}
      >
        {header ? (
          <div role="rowgroup">
            <div className="vhead" role="row" aria-rowindex={1} style={{ gridTemplateColumns: columns }}>
              {cells(header, 'columnheader')}
            </div>
          </div>
        ) : null}
        <div
          ref={scroller}
          className="vscroll"
          role="rowgroup"
          onScroll={(e) => {
            const el = e.currentTarget;
            setScrollTop(el.scrollTop);
            atEnd.current = el.scrollTop + el.clientHeight >= el.scrollHeight - rowHeight;
          }}
        >
          <div className="vspace" role="presentation" style={{ height: items.length * rowHeight }}>
            {rows}
          </div>
        </div>
      </div>
    </div>
  );
}

/**
 * A row's children as its cells: a plain element gets the role, anything else
 * is wrapped in a span that has it (a component's props may not reach the DOM,
 * a checkbox must stay a checkbox); a fragment's children are the cells.
 */
function cells(node: ReactNode, role: 'gridcell' | 'columnheader'): ReactNode {
  if (isValidElement(node) && node.type === Fragment) return Children.map((node as ReactElement<{ children?: ReactNode }>).props.children, (c) => cell(c, role));
  return Children.map(node, (c) => cell(c, role));
}

/** Elements that carry no role of their own: they can be the cell; anything else (a checkbox, a label, a component) is wrapped. */
const PLAIN = new Set(['span', 'div', 'strong', 'em', 'small', 'code', 'time']);

function cell(child: ReactNode, role: 'gridcell' | 'columnheader'): ReactNode {
  if (isValidElement(child) && typeof child.type === 'string' && PLAIN.has(child.type)) return cloneElement(child as ReactElement<{ role?: string }>, { role });
  if (child === null || child === undefined || typeof child === 'boolean') return child;
  return <span role={role}>{child}</span>;
}
