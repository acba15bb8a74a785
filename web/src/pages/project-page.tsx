import { Breadcrumb, BreadcrumbItem, Button, PageSection, Tab, TabTitleText, Tabs, Title } from '@patternfly/react-core';
import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api } from '../api/client.ts';
import type { Project, WhoCan } from '../api/types.ts';
import { useSession } from '../auth/session-context.tsx';
import { ConfirmModal } from '../components/confirm-modal.tsx';
import { ErrorAlert, Loading } from '../components/feedback.tsx';
import { useAsync } from '../components/use-async.ts';
import { callerCan } from '../lib/access.ts';
import { paths } from '../lib/routes.ts';
import { ImageStreamsTab } from './image-streams-tab.tsx';
import { MembersTab } from './members-tab.tsx';

export function ProjectPage({ tab }: { tab: 'imagestreams' | 'members' }) {
  const { project = '' } = useParams();
  const navigate = useNavigate();
  const session = useSession();
  const [deleting, setDeleting] = useState(false);
  const info = useAsync((signal) => api<Project>(`projects/${encodeURIComponent(project)}`, { signal }), [project, session.user?.metadata.name]);
  const canDelete = useAsync(
    (signal) => api<WhoCan>(`namespaces/${encodeURIComponent(project)}/whocan?verb=delete-project`, { signal }).catch(() => undefined),
    [project, session.user?.metadata.name],
  );
  return (
    <>
      <PageSection>
        <Breadcrumb>
          <BreadcrumbItem render={() => <Link to={paths.projects()}>Projects</Link>} />
          <BreadcrumbItem isActive>{project}</BreadcrumbItem>
        </Breadcrumb>
        <Title headingLevel="h1" className="berth-gap">{info.data?.spec.displayName ? `${info.data.spec.displayName} (${project})` : project}</Title>
        {session.user && callerCan(canDelete.data, session.caller) ? (
          <Button variant="secondary" isDanger className="berth-gap" onClick={() => setDeleting(true)}>Delete project</Button>
        ) : null}
      </PageSection>
      <PageSection>
        {info.error !== undefined ? <ErrorAlert error={info.error} title={`Project ${project} could not be loaded`} onRetry={info.reload} />
          : info.data === undefined ? <Loading what="the project" />
            : (
              <Tabs
                activeKey={tab}
                onSelect={(_e, key) => void navigate(key === 'members' ? paths.members(project) : paths.project(project))}
                aria-label="Project sections"
                role="region"
              >
                <Tab eventKey="imagestreams" title={<TabTitleText>Image streams</TabTitleText>} href={paths.project(project)}>
                  {tab === 'imagestreams' ? <ImageStreamsTab project={project} /> : null}
                </Tab>
                <Tab eventKey="members" title={<TabTitleText>Members</TabTitleText>} href={paths.members(project)}>
                  {tab === 'members' ? <MembersTab project={project} /> : null}
                </Tab>
              </Tabs>
            )}
      </PageSection>
      {deleting ? (
        <ConfirmModal
          title={`Delete project ${project}?`}
          confirmLabel="Delete project"
          onClose={() => setDeleting(false)}
          onConfirm={async () => {
            await api(`projects/${encodeURIComponent(project)}`, { method: 'DELETE' });
            void navigate(paths.projects());
          }}
        >
          <p>Its image streams, images, role bindings, service accounts and tokens are deleted with it. This cannot be undone.</p>
        </ConfirmModal>
      ) : null}
    </>
  );
}
