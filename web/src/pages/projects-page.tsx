import {
  Alert, Button, Form, FormGroup, FormHelperText, HelperText, HelperTextItem, Modal, ModalBody, ModalFooter, ModalHeader,
  PageSection, TextInput, Title, Toolbar, ToolbarContent, ToolbarItem,
} from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { api, describeError, listPage } from '../api/client.ts';
import type { Project } from '../api/types.ts';
import { useSession } from '../auth/session-context.tsx';
import { Empty, ErrorAlert, Loading } from '../components/feedback.tsx';
import { Pager, usePageCursor } from '../components/pager.tsx';
import { useAccess } from '../components/use-access.ts';
import { useAsync } from '../components/use-async.ts';
import { formatTime } from '../lib/format.ts';
import { dns1123LabelProblem } from '../lib/names.ts';
import { paths } from '../lib/routes.ts';

function CreateProjectModal({ onClose }: { onClose: () => void }) {
  const navigate = useNavigate();
  const [name, setName] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const problem = dns1123LabelProblem(name);
  const submit = async (): Promise<void> => {
    setTouched(true);
    if (problem) return;
    setBusy(true);
    setError(undefined);
    try {
      await api<Project>('projects', { method: 'POST', body: { metadata: { name }, spec: displayName.trim() ? { displayName: displayName.trim() } : {} } });
      onClose();
      void navigate(paths.project(name));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal isOpen variant="small" onClose={onClose} aria-labelledby="create-project-title">
      <ModalHeader title="Create project" labelId="create-project-title" />
      <ModalBody>
        <Form id="create-project-form" onSubmit={(e) => { e.preventDefault(); void submit(); }}>
          <FormGroup label="Name" isRequired fieldId="project-name">
            <TextInput id="project-name" isRequired value={name} onChange={(_e, v) => setName(v)} onBlur={() => setTouched(true)}
              validated={touched && problem ? 'error' : 'default'} aria-describedby="project-name-help" autoFocus />
            <FormHelperText>
              <HelperText id="project-name-help">
                <HelperTextItem variant={touched && problem ? 'error' : 'default'}>
                  {touched && problem ? problem : 'Images are pushed as <registry>/<name>/<image>. Lowercase letters, digits and "-".'}
                </HelperTextItem>
              </HelperText>
            </FormHelperText>
          </FormGroup>
          <FormGroup label="Display name" fieldId="project-display-name">
            <TextInput id="project-display-name" value={displayName} onChange={(_e, v) => setDisplayName(v)} />
          </FormGroup>
          {error !== undefined ? <Alert variant="danger" isInline title="The project was not created"><p>{describeError(error)}</p></Alert> : null}
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button type="submit" form="create-project-form" isLoading={busy} isDisabled={busy}>Create</Button>
        <Button variant="link" onClick={onClose}>Cancel</Button>
      </ModalFooter>
    </Modal>
  );
}

const CREATE_PROJECT = ['create-project'] as const;

export function ProjectsPage() {
  const session = useSession();
  const { cursor, limit } = usePageCursor();
  const [creating, setCreating] = useState(false);
  const access = useAccess(CREATE_PROJECT);
  const canCreate = access.can('create-project');
  const projects = useAsync((signal) => listPage<Project>('projects', limit, cursor, signal), [cursor, limit, session.user?.metadata.name]);
  return (
    <>
      <PageSection>
        <Title headingLevel="h1">Projects</Title>
        <p className="berth-gap">
          {session.user ? 'Projects you can see. Each holds image streams and decides who may pull and push them.'
            : 'Public projects: anyone may pull their images. Sign in to see the projects you are a member of.'}
        </p>
      </PageSection>
      <PageSection>
        <Toolbar>
          <ToolbarContent>
            {canCreate ? (
              <ToolbarItem>
                <Button onClick={() => setCreating(true)}>Create project</Button>
              </ToolbarItem>
            ) : null}
          </ToolbarContent>
        </Toolbar>
        {projects.error !== undefined ? <ErrorAlert error={projects.error} title="Projects could not be loaded" onRetry={projects.reload} />
          : projects.data === undefined || !access.ready ? <Loading what="projects" />
            : projects.data.items.length === 0 ? (
              <Empty title="No projects">{canCreate ? 'Create one, or ask to be added to one.' : session.user ? 'Ask a registry-admin of a project to add you to it.' : 'No project is public yet.'}</Empty>
            ) : (
              <Table aria-label="Projects" variant="compact">
                <Thead>
                  <Tr><Th>Name</Th><Th>Display name</Th><Th>Requester</Th><Th>Created</Th></Tr>
                </Thead>
                <Tbody>
                  {projects.data.items.map((p) => (
                    <Tr key={p.metadata.name}>
                      <Td dataLabel="Name"><Link to={paths.project(p.metadata.name)}>{p.metadata.name}</Link></Td>
                      <Td dataLabel="Display name">{p.spec.displayName ?? ''}</Td>
                      <Td dataLabel="Requester">{p.metadata.annotations?.['berth.dev/requester'] ?? ''}</Td>
                      <Td dataLabel="Created">{formatTime(p.metadata.creationTimestamp)}</Td>
                    </Tr>
                  ))}
                </Tbody>
              </Table>
            )}
        <Pager next={projects.data?.metadata.continue} label="Projects" />
      </PageSection>
      {creating ? <CreateProjectModal onClose={() => setCreating(false)} /> : null}
    </>
  );
}
