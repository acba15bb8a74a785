import { Button, Flex, FlexItem, Pagination } from '@patternfly/react-core';
import { useState, type ReactNode } from 'react';
import { useLocation, useNavigate, useSearchParams } from 'react-router';

/** Items per page when the URL does not say. */
export const DEFAULT_PAGE_SIZE = 20;

/**
 * Items per page: `?limit=N` (1 to 1000) when the URL has it, for every
 * list of the page, else DEFAULT_PAGE_SIZE. So a page size can be shared
 * in a link, and tests can page short lists.
 */
export function usePageSize(): number {
  const [params] = useSearchParams();
  const limit = Number(params.get('limit') ?? '') || DEFAULT_PAGE_SIZE;
  return Math.min(Math.max(Math.floor(limit), 1), 1000);
}

/**
 * Keyset paging over the API's opaque `continue` cursor, kept in the URL
 * (`?continue=…`, or another parameter when a page has several lists) so
 * every page can be shared and reloaded.
 */
export function usePageCursor(param = 'continue'): { cursor: string | undefined; limit: number } {
  const [params] = useSearchParams();
  return { cursor: params.get(param) ?? undefined, limit: usePageSize() };
}

type CursorStacks = Record<string, Array<string | null>>;

/** First / Previous / Next buttons, shared by the URL and the in-memory keyset pagers. */
function CursorButtons({ label, hasPrevious, hasNext, onFirst, onPrevious, onNext }: {
  label: string; hasPrevious: boolean; hasNext: boolean; onFirst: () => void; onPrevious: () => void; onNext: () => void;
}) {
  if (!hasPrevious && !hasNext) return null;
  return (
    <Flex component="nav" aria-label={`${label} pages`} justifyContent={{ default: 'justifyContentFlexEnd' }} className="berth-pager">
      <FlexItem><Button variant="secondary" isDisabled={!hasPrevious} onClick={onFirst}>First page</Button></FlexItem>
      <FlexItem><Button variant="secondary" isDisabled={!hasPrevious} onClick={onPrevious}>Previous page</Button></FlexItem>
      <FlexItem><Button variant="secondary" isDisabled={!hasNext} onClick={onNext}>Next page</Button></FlexItem>
    </Flex>
  );
}

/**
 * The pager of a list whose cursor is in the URL (see usePageCursor).
 * "Previous" walks back through the cursors this tab has seen, kept in
 * history state per parameter.
 */
export function Pager({ next, label, param = 'continue' }: { next: string | undefined; label: string; param?: string }) {
  const [params] = useSearchParams();
  const location = useLocation();
  const navigate = useNavigate();
  const state = (location.state as { cursors?: CursorStacks } | null) ?? {};
  const stack = state.cursors?.[param] ?? [];
  const current = params.get(param);
  const go = (cursor: string | null, cursors: Array<string | null>): void => {
    const query = new URLSearchParams(params);
    if (cursor) query.set(param, cursor); else query.delete(param);
    const search = query.toString();
    void navigate(`${location.pathname}${search ? `?${search}` : ''}`, { state: { ...state, cursors: { ...state.cursors, [param]: cursors } } });
  };
  return (
    <CursorButtons label={label} hasPrevious={Boolean(current)} hasNext={Boolean(next)}
      onFirst={() => go(null, [])}
      onPrevious={() => go(stack.at(-1) ?? null, stack.slice(0, -1))}
      onNext={() => { if (next) go(next, [...stack, current]); }} />
  );
}

/**
 * Keyset paging kept in the component, for lists inside a list (a service
 * account's tokens, shown when its row is expanded), whose position is not
 * worth a URL.
 */
export function useMemoryCursor(label: string): { cursor: string | undefined; pager(next: string | undefined): ReactNode } {
  const [stack, setStack] = useState<Array<string | undefined>>([]);
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  return {
    cursor,
    pager: (next) => (
      <CursorButtons label={label} hasPrevious={cursor !== undefined} hasNext={next !== undefined}
        onFirst={() => { setStack([]); setCursor(undefined); }}
        onPrevious={() => { setCursor(stack.at(-1)); setStack(stack.slice(0, -1)); }}
        onNext={() => { if (next) { setStack([...stack, cursor]); setCursor(next); } }} />
    ),
  };
}

/**
 * Paging of a list the API answers whole (the subjects of a project's role
 * bindings, the tags of one image stream): the page number is in the URL
 * (`?<param>=2`), the page size is usePageSize's.
 */
export function useClientPage<T>(items: readonly T[], param: string, label: string): { items: T[]; pager: ReactNode } {
  const [params, setParams] = useSearchParams();
  const perPage = usePageSize();
  const pages = Math.max(1, Math.ceil(items.length / perPage));
  const page = Math.min(Math.max(Number(params.get(param) ?? '') || 1, 1), pages);
  const setPage = (n: number, size = perPage): void => {
    const query = new URLSearchParams(params);
    if (n > 1) query.set(param, String(n)); else query.delete(param);
    if (size !== DEFAULT_PAGE_SIZE) query.set('limit', String(size)); else query.delete('limit');
    setParams(query);
  };
  const pager = items.length > perPage ? (
    <Pagination
      itemCount={items.length}
      perPage={perPage}
      page={page}
      onSetPage={(_e, n) => setPage(n)}
      onPerPageSelect={(_e, size, n) => setPage(n, size)}
      variant="bottom"
      isCompact
      widgetId={param}
      // PatternFly replaces its default titles with this object rather than merging: all of them are given.
      titles={{
        items: '', page: '', pages: '', itemsPerPage: 'Items per page', perPageSuffix: 'per page', ofWord: 'of',
        toFirstPageAriaLabel: 'Go to first page', toPreviousPageAriaLabel: 'Go to previous page', toLastPageAriaLabel: 'Go to last page',
        toNextPageAriaLabel: 'Go to next page', optionsToggleAriaLabel: `${label} per page`, currPageAriaLabel: 'Current page',
        paginationAriaLabel: `${label} pages`,
      }}
      className="berth-pager"
    />
  ) : null;
  return { items: items.slice((page - 1) * perPage, page * perPage), pager };
}
