import { Alert, PageSection, SearchInput, Title } from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { describeError, listAll } from '../api/client.ts';
import type { ImageStream, Project } from '../api/types.ts';
import { useSession } from '../auth/session-context.tsx';
import { Empty, ErrorAlert, Loading } from '../components/feedback.tsx';
import { useAsync } from '../components/use-async.ts';
import { searchStreams, type SearchEntry } from '../lib/search.ts';
import { paths } from '../lib/routes.ts';
import { useState } from 'react';

const PAGE = 50;

/** Every stream of every project the caller can see (a few projects at a time), with per-project failures kept in words. */
async function loadIndex(signal: AbortSignal): Promise<{ entries: SearchEntry[]; failures: Array<{ project: string; message: string }> }> {
  const projects = await listAll<Project>('projects', signal);
  const entries: SearchEntry[] = [];
  const failures: Array<{ project: string; message: string }> = [];
  const queue = projects.map((p) => p.metadata.name);
  const worker = async (): Promise<void> => {
    for (let project = queue.shift(); project !== undefined; project = queue.shift()) {
      try {
        const streams = await listAll<ImageStream>(`namespaces/${encodeURIComponent(project)}/imagestreams`, signal);
        for (const s of streams) entries.push({ project, stream: s.metadata.name, tags: (s.status.tags ?? []).map((t) => t.tag) });
      } catch (err) {
        failures.push({ project, message: describeError(err) });
      }
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return { entries, failures };
}

export function SearchPage() {
  const session = useSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const query = params.get('q') ?? '';
  const [shown, setShown] = useState(PAGE);
  const index = useAsync(loadIndex, [session.user?.metadata.name]);
  const hits = index.data ? searchStreams(index.data.entries, query) : [];
  return (
    <>
      <PageSection>
        <Title headingLevel="h1">Search image streams</Title>
        <div className="berth-gap" style={{ maxWidth: '40rem' }}>
          <SearchInput aria-label="Search image streams by name or tag" placeholder="Name, project or tag" value={query}
            onChange={(_e, v) => void navigate(paths.search(v), { replace: true })} onClear={() => void navigate(paths.search(), { replace: true })} />
        </div>
      </PageSection>
      <PageSection>
        {index.error !== undefined ? <ErrorAlert error={index.error} title="Search is unavailable" onRetry={index.reload} />
          : index.data === undefined ? <Loading what="image streams" />
            : (
              <>
                {index.data.failures.length > 0 ? (
                  <Alert variant="warning" isInline title={`Image streams of ${index.data.failures.length} project(s) could not be searched`}>
                    <ul>{index.data.failures.slice(0, 5).map((f) => <li key={f.project}>{f.project}: {f.message}</li>)}</ul>
                  </Alert>
                ) : null}
                {!query.trim() ? <p className="berth-gap">{index.data.entries.length} image streams in the projects you can see. Type to search.</p>
                  : hits.length === 0 ? <Empty title="No image streams match">Nothing named like “{query}” in the projects you can see.</Empty>
                    : (
                      <>
                        <Table aria-label="Search results" variant="compact" className="berth-gap">
                          <Thead><Tr><Th>Image stream</Th><Th>Project</Th><Th>Tags</Th></Tr></Thead>
                          <Tbody>
                            {hits.slice(0, shown).map((h) => (
                              <Tr key={`${h.project}/${h.stream}`}>
                                <Td dataLabel="Image stream"><Link to={paths.stream(h.project, h.stream)}>{h.stream}</Link></Td>
                                <Td dataLabel="Project"><Link to={paths.project(h.project)}>{h.project}</Link></Td>
                                <Td dataLabel="Tags">{h.tags.slice(0, 8).join(', ')}{h.tags.length > 8 ? ` and ${h.tags.length - 8} more` : ''}</Td>
                              </Tr>
                            ))}
                          </Tbody>
                        </Table>
                        {hits.length > shown ? <button type="button" className="pf-v6-c-button pf-m-link" onClick={() => setShown(shown + PAGE)}>Show {Math.min(PAGE, hits.length - shown)} more of {hits.length - shown}</button> : null}
                      </>
                    )}
              </>
            )}
      </PageSection>
    </>
  );
}
