import { Label, LabelGroup } from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { Link } from 'react-router';
import { api, describeError, listPage } from '../api/client.ts';
import type { ImageStream, ImageStreamImage, ImageStreamTag } from '../api/types.ts';
import { useSession } from '../auth/session-context.tsx';
import { Empty, ErrorAlert, Loading } from '../components/feedback.tsx';
import { Pager, usePageCursor } from '../components/pager.tsx';
import { useAsync } from '../components/use-async.ts';
import { formatAge, formatBytesExact, formatSize, formatTime } from '../lib/format.ts';
import { lastUpdated, summarizeTags } from '../lib/history.ts';
import { choosePlatform, platformLabel } from '../lib/platform.ts';
import { apiStreamName, paths } from '../lib/routes.ts';

/**
 * The size of a stream's newest tag's image (one request per row, after the
 * list is shown). A multi-arch index has no size of its own: the row shows
 * the size of the platform a tag page opens on (linux/amd64, else the first),
 * and says which.
 */
function LatestSize({ project, stream, tag }: { project: string; stream: string; tag: string | undefined }) {
  const size = useAsync(async (signal): Promise<{ bytes: number | undefined; platform?: string } | undefined> => {
    if (!tag) return undefined;
    const ns = `namespaces/${encodeURIComponent(project)}`;
    const ist = await api<ImageStreamTag>(`${ns}/imagestreamtags/${apiStreamName(stream)}:${encodeURIComponent(tag)}`, { signal });
    const chosen = choosePlatform(ist.image.dockerImageManifests, undefined);
    if (!chosen) return { bytes: ist.image.dockerImageMetadata?.Size };
    const child = await api<ImageStreamImage>(`${ns}/imagestreamimages/${apiStreamName(stream)}@${chosen.digest}`, { signal });
    return { bytes: child.image.dockerImageMetadata?.Size, platform: platformLabel(chosen) };
  }, [project, stream, tag]);
  if (!tag) return <>—</>;
  if (size.error !== undefined) return <span title={`The size could not be read: ${describeError(size.error)}`}>—</span>;
  if (size.data === undefined) return <>…</>;
  const { bytes, platform } = size.data;
  return (
    <span title={bytes === undefined ? undefined : `${formatBytesExact(bytes)}${platform ? ` (the ${platform} image of the index)` : ''}`}>
      {formatSize(bytes)}{platform ? <small className="berth-muted"> {platform}</small> : null}
    </span>
  );
}

export function ImageStreamsTab({ project }: { project: string }) {
  const session = useSession();
  const { cursor, limit } = usePageCursor();
  const streams = useAsync(
    (signal) => listPage<ImageStream>(`namespaces/${encodeURIComponent(project)}/imagestreams`, limit, cursor, signal),
    [project, cursor, limit, session.user?.metadata.name],
  );
  if (streams.error !== undefined) return <div className="berth-gap"><ErrorAlert error={streams.error} title="Image streams could not be loaded" onRetry={streams.reload} /></div>;
  if (streams.data === undefined) return <Loading what="image streams" />;
  if (streams.data.items.length === 0) {
    return <Empty title="No image streams">Push an image with <code>podman push {window.location.host}/{project}/&lt;name&gt;:&lt;tag&gt;</code> and it appears here.</Empty>;
  }
  return (
    <>
      <Table aria-label={`Image streams of ${project}`} variant="compact" className="berth-gap">
        <Thead>
          <Tr><Th>Name</Th><Th>Latest tags</Th><Th>Last updated</Th><Th>Size</Th></Tr>
        </Thead>
        <Tbody>
          {streams.data.items.map((s) => {
            const tags = summarizeTags(s);
            const updated = lastUpdated(s);
            return (
              <Tr key={s.metadata.name} data-testid="stream-row">
                <Td dataLabel="Name"><Link to={paths.stream(project, s.metadata.name)}>{s.metadata.name}</Link></Td>
                <Td dataLabel="Latest tags">
                  <LabelGroup numLabels={4} aria-label={`Tags of ${s.metadata.name}`}>
                    {tags.map((t) => (
                      <Label key={t.tag} isCompact color="blue" render={({ className, content }) => <Link className={className} to={paths.tag(project, s.metadata.name, t.tag)}>{content}</Link>}>{t.tag}</Label>
                    ))}
                  </LabelGroup>
                </Td>
                <Td dataLabel="Last updated"><span title={formatTime(updated)}>{formatAge(updated)}</span></Td>
                <Td dataLabel="Size"><LatestSize project={project} stream={s.metadata.name} tag={tags[0]?.current ? tags[0].tag : undefined} /></Td>
              </Tr>
            );
          })}
        </Tbody>
      </Table>
      <Pager next={streams.data.metadata.continue} label="Image streams" />
    </>
  );
}
