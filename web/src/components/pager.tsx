import { Button, Flex, FlexItem } from '@patternfly/react-core';
import { useLocation, useNavigate, useSearchParams } from 'react-router';

/**
 * Keyset paging over the API's opaque `continue` cursor, kept in the URL
 * (`?continue=…`) so every page can be shared and reloaded. "Previous" walks
 * back through the cursors this tab has seen (kept in history state).
 */
export function usePageCursor(): { cursor: string | undefined; limit: number } {
  const [params] = useSearchParams();
  const limit = Number(params.get('limit') ?? '') || 20;
  return { cursor: params.get('continue') ?? undefined, limit: Math.min(Math.max(limit, 1), 1000) };
}

export function Pager({ next, label }: { next: string | undefined; label: string }) {
  const [params] = useSearchParams();
  const location = useLocation();
  const navigate = useNavigate();
  const stack = ((location.state as { cursors?: Array<string | null> } | null)?.cursors) ?? [];
  const current = params.get('continue');
  const go = (cursor: string | null, cursors: Array<string | null>): void => {
    const query = new URLSearchParams(params);
    if (cursor) query.set('continue', cursor); else query.delete('continue');
    const search = query.toString();
    void navigate(`${location.pathname}${search ? `?${search}` : ''}`, { state: { cursors } });
  };
  if (!next && !current) return null;
  return (
    <Flex component="nav" aria-label={`${label} pages`} justifyContent={{ default: 'justifyContentFlexEnd' }} className="berth-pager">
      <FlexItem>
        <Button variant="secondary" isDisabled={!current} onClick={() => go(null, [])}>First page</Button>
      </FlexItem>
      <FlexItem>
        <Button variant="secondary" isDisabled={!current} onClick={() => go(stack.at(-1) ?? null, stack.slice(0, -1))}>Previous page</Button>
      </FlexItem>
      <FlexItem>
        <Button variant="secondary" isDisabled={!next} onClick={() => next && go(next, [...stack, current])}>Next page</Button>
      </FlexItem>
    </Flex>
  );
}
