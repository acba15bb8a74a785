import { Alert, Breadcrumb, BreadcrumbItem, Button, ClipboardCopy, Label, PageSection, Title } from '@patternfly/react-core';
import { ExpandableRowContent, Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { api, listPage } from '../api/client.ts';
import type { ImageStream, TagEvent } from '../api/types.ts';
import { useSession } from '../auth/session-context.tsx';
import { ConfirmModal } from '../components/confirm-modal.tsx';
import { ErrorAlert, Loading } from '../components/feedback.tsx';
import { useClientPage } from '../components/pager.tsx';
import { useAccess } from '../components/use-access.ts';
import { useAsync } from '../components/use-async.ts';
import { formatAge, formatTime, shortDigest } from '../lib/format.ts';
import { eventSource, orderTagHistory, summarizeTags, type TagSummary } from '../lib/history.ts';
import { pullCommand, type PullTarget } from '../lib/pull-command.ts';
import { apiStreamName, paths } from '../lib/routes.ts';

/** A tag's full history: the newest 10 come with the stream, the rest from the history route, page by page. */
function TagHistory({ project, stream, row, target, onRollback }: {
  project: string; stream: string; row: TagSummary; target: PullTarget; onRollback: ((item: TagEvent) => void) | undefined;
}) {
  const [extra, setExtra] = useState<TagEvent[]>([]);
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const items = orderTagHistory([...row.history, ...extra]);
  const more = async (): Promise<void> => {
    try {
      const page = await listPage<TagEvent>(`namespaces/${encodeURIComponent(project)}/imagestreams/${apiStreamName(stream)}/history/${encodeURIComponent(row.tag)}`, 50, cursor);
      setExtra((old) => [...old, ...page.items]);
      setCursor(page.metadata.continue);
      setLoaded(true);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <>
      <Table aria-label={`History of ${stream}:${row.tag}`} variant="compact">
        <Thead><Tr><Th>Generation</Th><Th>When</Th><Th>Source</Th><Th>Image</Th><Th>Pull by digest</Th>{onRollback ? <Th screenReaderText="Actions" /> : null}</Tr></Thead>
        <Tbody>
          {items.map((item, i) => (
            <Tr key={`${item.generation}-${item.image}`}>
              <Td dataLabel="Generation">{item.generation}{i === 0 ? <Label isCompact color="green" className="berth-user"> current</Label> : null}</Td>
              <Td dataLabel="When">{formatTime(item.created)}</Td>
              <Td dataLabel="Source">{eventSource(item) ?? '—'}</Td>
              <Td dataLabel="Image" className="berth-mono" title={item.image}>{shortDigest(item.image)}</Td>
              <Td dataLabel="Pull by digest">
                <ClipboardCopy isReadOnly variant="inline-compact" hoverTip="Copy" clickTip="Copied" copyAriaLabel={`Copy the pull command of generation ${item.generation}`}>{pullCommand(target, item.image)}</ClipboardCopy>
              </Td>
              {onRollback ? (
                <Td isActionCell>{i > 0 ? <Button variant="link" onClick={() => onRollback(item)} aria-label={`Roll ${row.tag} back to generation ${item.generation}`}>Roll back to this</Button> : null}</Td>
              ) : null}
            </Tr>
          ))}
        </Tbody>
      </Table>
      {error !== undefined ? <ErrorAlert error={error} title="Older history could not be loaded" /> : null}
      {row.history.length >= 10 && (!loaded || cursor) ? <Button variant="link" onClick={() => void more()}>Show older history</Button> : null}
    </>
  );
}

const STREAM_VERBS = ['push', 'delete'] as const;

export function StreamPage({ project, stream }: { project: string; stream: string }) {
  const session = useSession();
  const navigate = useNavigate();
  const path = `namespaces/${encodeURIComponent(project)}/imagestreams/${apiStreamName(stream)}`;
  const is = useAsync((signal) => api<ImageStream>(path, { signal }), [path, session.user?.metadata.name]);
  const access = useAccess(STREAM_VERBS, project);
  const canDelete = access.can('delete');
  const canRollBack = access.can('push');
  const [expanded, setExpanded] = useState<Set<string>>(new Set());
  const [confirm, setConfirm] = useState<{ kind: 'stream' } | { kind: 'tag'; tag: string } | { kind: 'rollback'; tag: string; item: TagEvent } | undefined>(undefined);
  const target: PullTarget = { repository: is.data?.status.dockerImageRepository, host: window.location.host, project, stream };
  const rows = is.data ? summarizeTags(is.data) : [];
  const page = useClientPage(rows, 'tags-page', 'Tags');
  const toggle = (tag: string): void => setExpanded((old) => {
    const next = new Set(old);
    if (next.has(tag)) next.delete(tag); else next.add(tag);
    return next;
  });
  return (
    <>
      <PageSection>
        <Breadcrumb>
          <BreadcrumbItem render={() => <Link to={paths.projects()}>Projects</Link>} />
          <BreadcrumbItem render={() => <Link to={paths.project(project)}>{project}</Link>} />
          <BreadcrumbItem isActive>{stream}</BreadcrumbItem>
        </Breadcrumb>
        <Title headingLevel="h1" className="berth-gap">{stream}</Title>
        {is.data ? <p className="berth-gap">Repository: <code>{target.repository ?? `${target.host}/${project}/${stream}`}</code></p> : null}
        {canDelete && is.data ? <Button variant="secondary" isDanger className="berth-gap" onClick={() => setConfirm({ kind: 'stream' })}>Delete image stream</Button> : null}
      </PageSection>
      <PageSection>
        {is.error !== undefined ? <ErrorAlert error={is.error} title={`Image stream ${stream} could not be loaded`} onRetry={is.reload} />
          : is.data === undefined || !access.ready ? <Loading what="the image stream" />
            : rows.length === 0 ? <Alert variant="info" isInline title="This image stream has no tags yet." />
              : (
                <>
                  <Table aria-label={`Tags of ${stream}`}>
                    <Thead><Tr><Th screenReaderText="Show history" /><Th>Tag</Th><Th>Updated</Th><Th>Image</Th><Th>From</Th><Th>Pull command</Th>{canDelete ? <Th screenReaderText="Actions" /> : null}</Tr></Thead>
                    {page.items.map((row, index) => {
                      const open = expanded.has(row.tag);
                      return (
                        <Tbody key={row.tag} isExpanded={open}>
                          <Tr data-testid="tag-row">
                            <Td expand={{ rowIndex: index, isExpanded: open, onToggle: () => toggle(row.tag), expandId: `tag-${row.tag}` }} />
                            <Td dataLabel="Tag"><Link to={paths.tag(project, stream, row.tag)}>{row.tag}</Link></Td>
                            <Td dataLabel="Updated"><span title={formatTime(row.current?.created)}>{formatAge(row.current?.created)}</span></Td>
                            <Td dataLabel="Image" className="berth-mono" title={row.current?.image}>{shortDigest(row.current?.image)}</Td>
                            <Td dataLabel="From">{row.source}{row.problem ? <Alert variant="danger" isInline isPlain title={row.problem} /> : null}</Td>
                            <Td dataLabel="Pull command">
                              <ClipboardCopy isReadOnly hoverTip="Copy" clickTip="Copied" variant="inline-compact" data-testid="pull-command" copyAriaLabel={`Copy the pull command of ${row.tag}`}>{pullCommand(target, row.tag)}</ClipboardCopy>
                            </Td>
                            {canDelete ? (
                              <Td isActionCell>
                                <Button variant="link" isDanger onClick={() => setConfirm({ kind: 'tag', tag: row.tag })} aria-label={`Delete tag ${row.tag}`}>Delete</Button>
                              </Td>
                            ) : null}
                          </Tr>
                          {open ? (
                            <Tr isExpanded>
                              <Td colSpan={canDelete ? 7 : 6}>
                                <ExpandableRowContent>
                                  <TagHistory project={project} stream={stream} row={row} target={target}
                                    onRollback={canRollBack ? (item) => setConfirm({ kind: 'rollback', tag: row.tag, item }) : undefined} />
                                </ExpandableRowContent>
                              </Td>
                            </Tr>
                          ) : null}
                        </Tbody>
                      );
                    })}
                  </Table>
                  {page.pager}
                </>
              )}
      </PageSection>
      {confirm?.kind === 'stream' ? (
        <ConfirmModal title={`Delete image stream ${stream}?`} confirmLabel="Delete image stream" onClose={() => setConfirm(undefined)}
          onConfirm={async () => { await api(path, { method: 'DELETE' }); void navigate(paths.project(project)); }}>
          <p>Every tag of {project}/{stream} and its history are deleted. Pulls of it fail from now on.</p>
        </ConfirmModal>
      ) : null}
      {confirm?.kind === 'tag' ? (
        <ConfirmModal title={`Delete tag ${stream}:${confirm.tag}?`} confirmLabel="Delete tag" onClose={() => setConfirm(undefined)}
          onConfirm={async () => { await api(`namespaces/${encodeURIComponent(project)}/imagestreamtags/${apiStreamName(stream)}:${encodeURIComponent(confirm.tag)}`, { method: 'DELETE' }); is.reload(); }}>
          <p>The tag and its history are deleted; images other tags use stay.</p>
        </ConfirmModal>
      ) : null}
      {confirm?.kind === 'rollback' ? (
        <ConfirmModal title={`Roll ${stream}:${confirm.tag} back?`} confirmLabel="Roll back" danger={false} onClose={() => setConfirm(undefined)}
          onConfirm={async () => { await api(`${path}/rollback`, { method: 'POST', body: { tag: confirm.tag, generation: confirm.item.generation } }); is.reload(); }}>
          <p>{stream}:{confirm.tag} will point at {shortDigest(confirm.item.image)} again (generation {confirm.item.generation}, {formatTime(confirm.item.created)}).</p>
        </ConfirmModal>
      ) : null}
    </>
  );
}
