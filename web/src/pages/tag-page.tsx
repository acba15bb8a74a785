import {
  Breadcrumb, BreadcrumbItem, ClipboardCopy, DescriptionList, DescriptionListDescription, DescriptionListGroup,
  DescriptionListTerm, FormGroup, FormSelect, FormSelectOption, Label, LabelGroup, PageSection, Tab, TabTitleText, Tabs, Title,
} from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import type { ReactNode } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api } from '../api/client.ts';
import type { Image, ImageStreamImage, ImageStreamTag } from '../api/types.ts';
import { useSession } from '../auth/session-context.tsx';
import { ErrorAlert, Loading } from '../components/feedback.tsx';
import { useAsync } from '../components/use-async.ts';
import { formatBytesExact, formatSize, formatTime, shortDigest } from '../lib/format.ts';
import { buildSteps, layerShares } from '../lib/history.ts';
import { choosePlatform, platformLabel, selectablePlatforms } from '../lib/platform.ts';
import { pullCommand } from '../lib/pull-command.ts';
import { apiStreamName, paths } from '../lib/routes.ts';

const TABS = ['details', 'config', 'layers'] as const;
type TabKey = (typeof TABS)[number];

function Term({ term, children, testId }: { term: string; children: ReactNode; testId?: string }) {
  return (
    <DescriptionListGroup>
      <DescriptionListTerm>{term}</DescriptionListTerm>
      <DescriptionListDescription data-testid={testId}>{children}</DescriptionListDescription>
    </DescriptionListGroup>
  );
}

function KeyValues({ values, label, testId }: { values: Record<string, string> | null | undefined; label: string; testId: string }) {
  const entries = Object.entries(values ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return <span data-testid={testId}>none</span>;
  return (
    <Table aria-label={label} variant="compact" borders={false} data-testid={testId}>
      <Tbody>
        {entries.map(([k, v]) => (
          <Tr key={k}><Td className="berth-mono" width={40}>{k}</Td><Td className="berth-mono">{v}</Td></Tr>
        ))}
      </Tbody>
    </Table>
  );
}

function List({ values, testId }: { values: readonly string[] | null | undefined; testId: string }) {
  if (!values || values.length === 0) return <span data-testid={testId}>none</span>;
  return <ul data-testid={testId}>{values.map((v, i) => <li key={i} className="berth-mono">{v}</li>)}</ul>;
}

function DetailsTab({ image, index, target }: { image: Image; index: Image | undefined; target: { pull: string } }) {
  const meta = image.dockerImageMetadata ?? {};
  return (
    <DescriptionList isHorizontal className="berth-gap" aria-label="Image details">
      <Term term="Author" testId="author">{meta.Author || 'not set'}</Term>
      <Term term="Built on" testId="created">{formatTime(meta.Created)}</Term>
      {index ? <Term term="Index digest" testId="index-digest"><span className="berth-mono">{index.metadata.name}</span></Term> : null}
      <Term term={index ? 'Platform manifest digest' : 'Digest'} testId="digest"><span className="berth-mono">{image.metadata.name}</span></Term>
      <Term term="Image ID" testId="image-id"><span className="berth-mono">{image.dockerImageConfigDigest ?? '—'}</span></Term>
      <Term term="Platform" testId="platform">{platformLabel({ os: meta.Os, architecture: meta.Architecture, variant: meta.Variant })}</Term>
      <Term term="Docker version" testId="docker-version">{meta.DockerVersion || 'not set'}</Term>
      <Term term="Size" testId="size"><span title={meta.Size === undefined ? undefined : formatBytesExact(meta.Size)}>{formatSize(meta.Size)}</span></Term>
      <Term term="Media type"><span className="berth-mono">{image.dockerImageManifestMediaType ?? '—'}</span></Term>
      <Term term="Pull by digest"><ClipboardCopy isReadOnly hoverTip="Copy" clickTip="Copied" textAriaLabel="Pull by digest" copyAriaLabel="Copy the pull-by-digest command">{target.pull}</ClipboardCopy></Term>
      <Term term="Labels"><KeyValues values={meta.Config?.Labels} label="Labels" testId="labels" /></Term>
      <Term term="Annotations"><KeyValues values={{ ...index?.annotations, ...image.annotations }} label="Annotations" testId="annotations" /></Term>
    </DescriptionList>
  );
}

function ConfigTab({ image }: { image: Image }) {
  const config = image.dockerImageMetadata?.Config ?? {};
  const steps = buildSteps(image.dockerImageHistory ?? [], image.dockerImageLayers ?? []);
  return (
    <div className="berth-gap">
      <Title headingLevel="h2">Build steps</Title>
      {steps.length === 0 ? <p>The image records no build history.</p> : (
        <Table aria-label="Build steps" variant="compact" data-testid="history">
          <Thead><Tr><Th>#</Th><Th>Created</Th><Th>Step</Th><Th>Layer</Th></Tr></Thead>
          <Tbody>
            {steps.map((s) => (
              <Tr key={s.index} data-testid="history-row">
                <Td dataLabel="#">{s.index + 1}</Td>
                <Td dataLabel="Created">{formatTime(s.entry.created)}</Td>
                <Td dataLabel="Step"><pre className="berth-pre">{s.entry.createdBy ?? ''}</pre>{s.entry.comment ? <small>{s.entry.comment}</small> : null}</Td>
                <Td dataLabel="Layer">{s.layer ? formatSize(s.layer.size) : 'no layer'}</Td>
              </Tr>
            ))}
          </Tbody>
        </Table>
      )}
      <Title headingLevel="h2" className="berth-gap">Runtime configuration</Title>
      <DescriptionList isHorizontal className="berth-gap" aria-label="Runtime configuration">
        <Term term="Entrypoint"><List values={config.Entrypoint} testId="entrypoint" /></Term>
        <Term term="Command"><List values={config.Cmd} testId="cmd" /></Term>
        <Term term="Environment"><List values={config.Env} testId="env" /></Term>
        <Term term="Exposed ports"><List values={Object.keys(config.ExposedPorts ?? {})} testId="ports" /></Term>
        <Term term="Working directory" testId="workdir">{config.WorkingDir || 'not set'}</Term>
        <Term term="User" testId="user">{config.User || 'not set'}</Term>
        <Term term="Labels"><KeyValues values={config.Labels} label="Labels" testId="config-labels" /></Term>
      </DescriptionList>
    </div>
  );
}

function LayersTab({ image }: { image: Image }) {
  const layers = image.dockerImageLayers ?? [];
  const { total, shares } = layerShares(layers);
  return (
    <div className="berth-gap">
      <p>{layers.length} layer{layers.length === 1 ? '' : 's'}, <strong data-testid="layers-total">{formatSize(total)}</strong> compressed ({formatBytesExact(total)}).</p>
      <div className="berth-layer-bar berth-gap" data-testid="layer-bar" role="img" aria-label={`Relative layer sizes: ${layers.map((l, i) => `layer ${i + 1} ${shares[i]!.toFixed(1)}%`).join(', ')}`}>
        {layers.map((l, i) => <span key={`${l.name}-${i}`} style={{ width: `${shares[i]}%` }} title={`Layer ${i + 1}: ${formatSize(l.size)}`} />)}
      </div>
      <Table aria-label="Layers" variant="compact" className="berth-gap" data-testid="layers">
        <Thead><Tr><Th>#</Th><Th>Digest</Th><Th>Size</Th><Th>Share</Th><Th>Media type</Th></Tr></Thead>
        <Tbody>
          {layers.map((l, i) => (
            <Tr key={`${l.name}-${i}`} data-testid="layer-row">
              <Td dataLabel="#">{i + 1}</Td>
              <Td dataLabel="Digest" className="berth-mono" data-testid="layer-digest">{l.name}</Td>
              <Td dataLabel="Size" data-testid="layer-size" title={formatBytesExact(l.size)}>{formatSize(l.size)}</Td>
              <Td dataLabel="Share"><span className="berth-share" style={{ width: `${Math.max(1, shares[i]!)}px` }} aria-hidden />{shares[i]!.toFixed(1)}%</Td>
              <Td dataLabel="Media type" className="berth-mono">{l.mediaType ?? ''}</Td>
            </Tr>
          ))}
          <Tr><Th>Total</Th><Td /><Td data-testid="layers-total-row">{formatSize(total)}</Td><Td>100%</Td><Td /></Tr>
        </Tbody>
      </Table>
    </div>
  );
}

export function TagPage({ project, stream, tag }: { project: string; stream: string; tag: string }) {
  const session = useSession();
  const [params, setParams] = useSearchParams();
  const tab: TabKey = (TABS as readonly string[]).includes(params.get('tab') ?? '') ? params.get('tab') as TabKey : 'details';
  const ns = `namespaces/${encodeURIComponent(project)}`;
  const ist = useAsync((signal) => api<ImageStreamTag>(`${ns}/imagestreamtags/${apiStreamName(stream)}:${encodeURIComponent(tag)}`, { signal }), [ns, stream, tag, session.user?.metadata.name]);
  const manifests = ist.data?.image.dockerImageManifests;
  const platforms = selectablePlatforms(manifests);
  const chosen = choosePlatform(manifests, params.get('platform'));
  const child = useAsync(
    (signal) => (chosen ? api<ImageStreamImage>(`${ns}/imagestreamimages/${apiStreamName(stream)}@${chosen.digest}`, { signal }) : Promise.resolve(undefined)),
    [ns, stream, chosen?.digest],
  );
  const update = (key: string, value: string): void => {
    const next = new URLSearchParams(params);
    next.set(key, value);
    setParams(next, { replace: key === 'tab' });
  };
  const index = chosen ? ist.data?.image : undefined;
  const image = chosen ? child.data?.image : ist.data?.image;
  const target = { repository: undefined, host: window.location.host, project, stream };
  const pullRef = ist.data?.image.dockerImageReference?.includes('@') ? ist.data.image.dockerImageReference : undefined;

  let body: ReactNode;
  if (ist.error !== undefined) body = <ErrorAlert error={ist.error} title={`Tag ${stream}:${tag} could not be loaded`} onRetry={ist.reload} />;
  else if (ist.data === undefined) body = <Loading what="the tag" />;
  else if (chosen && child.error !== undefined) body = <ErrorAlert error={child.error} title={`The ${platformLabel(chosen)} image could not be loaded`} onRetry={child.reload} />;
  else if (image === undefined) body = <Loading what="the image" />;
  else {
    body = (
      <Tabs activeKey={tab} onSelect={(_e, key) => update('tab', String(key))} aria-label="Image sections" role="region" className="berth-gap">
        <Tab eventKey="details" title={<TabTitleText>Details</TabTitleText>}>
          {tab === 'details' ? <DetailsTab image={image} index={index} target={{ pull: pullRef ? `podman pull ${pullRef}` : pullCommand(target, image.metadata.name) }} /> : null}
        </Tab>
        <Tab eventKey="config" title={<TabTitleText>Config</TabTitleText>}>
          {tab === 'config' ? <ConfigTab image={image} /> : null}
        </Tab>
        <Tab eventKey="layers" title={<TabTitleText>Layers</TabTitleText>}>
          {tab === 'layers' ? <LayersTab image={image} /> : null}
        </Tab>
      </Tabs>
    );
  }

  return (
    <>
      <PageSection>
        <Breadcrumb>
          <BreadcrumbItem render={() => <Link to={paths.projects()}>Projects</Link>} />
          <BreadcrumbItem render={() => <Link to={paths.project(project)}>{project}</Link>} />
          <BreadcrumbItem render={() => <Link to={paths.stream(project, stream)}>{stream}</Link>} />
          <BreadcrumbItem isActive>{tag}</BreadcrumbItem>
        </Breadcrumb>
        <Title headingLevel="h1" className="berth-gap">{stream}:{tag}</Title>
        <ClipboardCopy isReadOnly hoverTip="Copy" clickTip="Copied" className="berth-gap" data-testid="pull-command" textAriaLabel="Pull command" copyAriaLabel="Copy the pull command">{pullCommand(target, tag)}</ClipboardCopy>
        {ist.data?.image.metadata.name ? <div className="berth-gap"><LabelGroup><Label isCompact>{shortDigest(ist.data.image.metadata.name)}</Label>{platforms.length > 0 ? <Label isCompact color="purple">{platforms.length} platforms</Label> : null}</LabelGroup></div> : null}
        {chosen ? (
          <FormGroup label="Platform" fieldId="platform-select" className="berth-gap">
            <FormSelect id="platform-select" value={platformLabel(chosen)} onChange={(_e, v) => update('platform', v)} style={{ maxWidth: '20rem' }}>
              {platforms.map((p) => <FormSelectOption key={p.digest} value={platformLabel(p)} label={platformLabel(p)} />)}
            </FormSelect>
          </FormGroup>
        ) : null}
      </PageSection>
      <PageSection>{body}</PageSection>
    </>
  );
}
