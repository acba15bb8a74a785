import { Breadcrumb, BreadcrumbItem, Button, PageSection, Tab, TabTitleText, Tabs, Title } from '@patternfly/react-core';
import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api } from '../api/client.ts';
import type { Project } from '../api/types.ts';
import { useSession } from '../auth/session-context.tsx';
import { ConfirmModal } from '../components/confirm-modal.tsx';
import { ErrorAlert, Loading } from '../components/feedback.tsx';
import { useAccess } from '../components/use-access.ts';
import { useAsync } from '../components/use-async.ts';
import { paths } from '../lib/routes.ts';
import { ImageStreamsTab } from './image-streams-tab.tsx';
import { MembersTab } from './members-tab.tsx';

const DELETE_PROJECT = ['delete-project'] as const;

/**
 * A project with its tabs. Each tab has its own URL (`…/members`); the tab
 * links keep their href (open in a new tab, copy the link) but a plain click
 * or Enter navigates inside the console, with no page load.
 */
export function ProjectPage({ tab }: { tab: 'imagestreams' | 'members' }) {
  const { project = '' } = useParams();
  const navigate = useNavigate();
  const session = useSession();
  const [deleting, setDeleting] = useState(false);
  const info = useAsync((signal) => api<Project>(`projects/${encodeURIComponent(project)}`, { signal }), [project, session.user?.metadata.name]);
  const access = useAccess(DELETE_PROJECT, project);
  return (
    <>
      <PageSection>
        <Breadcrumb>
          <BreadcrumbItem render={() => <Link to={paths.projects()}>Projects</Link>} />
          <BreadcrumbItem isActive>{project}</BreadcrumbItem>
        </Breadcrumb>
        <Title headingLevel="h1" className="berth-gap">{info.data?.spec.displayName ? `${info.data.spec.displayName} (${project})` : project}</Title>
        {access.can('delete-project') ? (
          <Button variant="secondary" isDanger className="berth-gap" onClick={() => setDeleting(true)}>Delete project</Button>
        ) : null}
      </PageSection>
      <PageSection>
        {info.error !== undefined ? <ErrorAlert error={info.error} title={`Project ${project} could not be loaded`} onRetry={info.reload} />
          : info.data === undefined || !access.ready ? <Loading what="the project" />
            : (
              <Tabs
                activeKey={tab}
                onSelect={(event, key) => {
                  // A modified or middle click keeps the browser's own meaning (a new tab or window).
                  const mouse = event as unknown as { button?: number; metaKey?: boolean; ctrlKey?: boolean; shiftKey?: boolean; altKey?: boolean };
                  if (mouse.button || mouse.metaKey || mouse.ctrlKey || mouse.shiftKey || mouse.altKey) return;
                  event.preventDefault();
                  void navigate(key === 'members' ? paths.members(project) : paths.project(project));
                }}
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
