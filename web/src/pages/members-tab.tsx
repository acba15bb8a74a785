import {
  Alert, Button, ClipboardCopy, Flex, FlexItem, Form, FormGroup, FormSelect, FormSelectOption, Label, Modal, ModalBody,
  ModalFooter, ModalHeader, Switch, TextInput, Title,
} from '@patternfly/react-core';
import { ExpandableRowContent, Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { useState } from 'react';
import { api, describeError, listAll, listPage } from '../api/client.ts';
import type { RoleBinding, ServiceAccount, ServiceAccountToken, Subject, SubjectKind } from '../api/types.ts';
import { useSession } from '../auth/session-context.tsx';
import { ConfirmModal } from '../components/confirm-modal.tsx';
import { Empty, ErrorAlert, Loading } from '../components/feedback.tsx';
import { Pager, useClientPage, useMemoryCursor, usePageCursor, usePageSize } from '../components/pager.tsx';
import { useAccess } from '../components/use-access.ts';
import { useAsync } from '../components/use-async.ts';
import { formatTime } from '../lib/format.ts';
import { dns1123LabelProblem, subjectNameProblem } from '../lib/names.ts';

const PROJECT_ROLES = ['registry-viewer', 'registry-editor', 'registry-admin'] as const;
const ROLE_HELP: Record<string, string> = {
  'registry-viewer': 'pull images, see the project',
  'registry-editor': 'also push, tag and roll back images',
  'registry-admin': 'also delete images, manage members and service accounts',
};
const ANONYMOUS = 'system:unauthenticated';

function subjectLabel(s: Subject, project: string): string {
  if (s.kind === 'ServiceAccount') return s.namespace && s.namespace !== project ? `${s.namespace}:${s.name}` : s.name;
  return s.name;
}

function subjectPath(s: Subject, project: string): string {
  const name = s.kind === 'ServiceAccount' && s.namespace && s.namespace !== project ? `${s.namespace}:${s.name}` : s.name;
  return `${s.kind}/${encodeURIComponent(name)}`;
}

/** Runs an action, remembers its failure in words for an inline alert, reloads after success. */
function useAction(after: () => void): { busy: boolean; error: unknown; run(action: () => Promise<unknown>): Promise<boolean>; clear(): void } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  return {
    busy,
    error,
    clear: () => setError(undefined),
    async run(action) {
      setBusy(true);
      setError(undefined);
      try {
        await action();
        after();
        return true;
      } catch (err) {
        setError(err);
        return false;
      } finally {
        setBusy(false);
      }
    },
  };
}

function AddBindingForm({ project, onDone }: { project: string; onDone: () => void }) {
  const [role, setRole] = useState<string>('registry-viewer');
  const [kind, setKind] = useState<SubjectKind>('User');
  const [name, setName] = useState('');
  const [touched, setTouched] = useState(false);
  const action = useAction(onDone);
  const problem = subjectNameProblem(kind, name.trim());
  const submit = async (): Promise<void> => {
    setTouched(true);
    if (problem) return;
    const trimmed = name.trim();
    const body: Subject = kind === 'ServiceAccount' && trimmed.includes(':')
      ? { kind, namespace: trimmed.slice(0, trimmed.indexOf(':')), name: trimmed.slice(trimmed.indexOf(':') + 1) }
      : { kind, name: trimmed };
    if (await action.run(() => api(`namespaces/${encodeURIComponent(project)}/rolebindings/${role}/subjects`, { method: 'POST', body }))) {
      setName('');
      setTouched(false);
    }
  };
  return (
    <Form isHorizontal={false} onSubmit={(e) => { e.preventDefault(); void submit(); }} aria-label="Add a member">
      <Flex alignItems={{ default: 'alignItemsFlexEnd' }}>
        <FlexItem>
          <FormGroup label="Role" fieldId="binding-role">
            <FormSelect id="binding-role" value={role} onChange={(_e, v) => setRole(v)}>
              {PROJECT_ROLES.map((r) => <FormSelectOption key={r} value={r} label={`${r} — ${ROLE_HELP[r]}`} />)}
            </FormSelect>
          </FormGroup>
        </FlexItem>
        <FlexItem>
          <FormGroup label="Kind" fieldId="binding-kind">
            <FormSelect id="binding-kind" value={kind} onChange={(_e, v) => setKind(v as SubjectKind)}>
              <FormSelectOption value="User" label="User" />
              <FormSelectOption value="Group" label="Group" />
              <FormSelectOption value="ServiceAccount" label="Service account" />
            </FormSelect>
          </FormGroup>
        </FlexItem>
        <FlexItem>
          <FormGroup label="Name" fieldId="binding-name" isRequired>
            <TextInput id="binding-name" value={name} onChange={(_e, v) => setName(v)} validated={touched && problem ? 'error' : 'default'}
              placeholder={kind === 'ServiceAccount' ? 'ci or project:ci' : kind === 'Group' ? 'devs' : 'alice'} />
          </FormGroup>
        </FlexItem>
        <FlexItem>
          <Button type="submit" isLoading={action.busy} isDisabled={action.busy}>Add member</Button>
        </FlexItem>
      </Flex>
      {touched && problem ? <Alert variant="danger" isInline isPlain title={`Name: ${problem}`} /> : null}
      {action.error !== undefined ? <Alert variant="danger" isInline title="The member was not added"><p>{describeError(action.error)}</p></Alert> : null}
    </Form>
  );
}

function TokenSecretModal({ token, onClose }: { token: ServiceAccountToken; onClose: () => void }) {
  return (
    <Modal isOpen variant="medium" onClose={onClose} aria-labelledby="token-title">
      <ModalHeader title={`${token.status.rotatedFrom ? 'New token' : 'Token'} for ${token.spec.serviceAccountName}`} labelId="token-title" />
      <ModalBody>
        <Alert variant="warning" isInline title="Copy the token now: it is shown only once." />
        {token.status.rotatedFrom ? <p className="berth-gap" data-testid="rotated-from">It replaces token <code>{token.status.rotatedFrom}</code>, which no longer works.</p> : null}
        <ClipboardCopy isReadOnly hoverTip="Copy" clickTip="Copied" className="berth-gap" data-testid="token-secret" textAriaLabel="Token">{token.status.token ?? ''}</ClipboardCopy>
        <p className="berth-gap">Log in with it: <code>podman login -u {token.spec.serviceAccountName} -p &lt;token&gt; {window.location.host}</code></p>
        <p>Expires: {token.spec.expirationTimestamp ? formatTime(token.spec.expirationTimestamp) : 'never'}</p>
      </ModalBody>
      <ModalFooter>
        <Button onClick={onClose}>I have copied it</Button>
      </ModalFooter>
    </Modal>
  );
}

function TokensRow({ project, account, canManage }: { project: string; account: string; canManage: boolean }) {
  const base = `namespaces/${encodeURIComponent(project)}/serviceaccounts/${encodeURIComponent(account)}/tokens`;
  const limit = usePageSize();
  const paging = useMemoryCursor(`Tokens of ${account}`);
  const tokens = useAsync((signal) => listPage<ServiceAccountToken>(base, limit, paging.cursor, signal), [base, limit, paging.cursor]);
  const [created, setCreated] = useState<ServiceAccountToken | undefined>(undefined);
  const [rotating, setRotating] = useState<string | undefined>(undefined);
  const [days, setDays] = useState('');
  const action = useAction(tokens.reload);
  const create = async (): Promise<void> => {
    const n = Number(days);
    const body = days.trim() && Number.isFinite(n) && n > 0 ? { spec: { expirationSeconds: Math.round(n * 86400) } } : undefined;
    await action.run(async () => setCreated(await api<ServiceAccountToken>(base, { method: 'POST', ...(body ? { body } : {}) })));
  };
  return (
    <>
      {tokens.error !== undefined ? <ErrorAlert error={tokens.error} title="Tokens could not be loaded" />
        : tokens.data === undefined ? <Loading what="tokens" />
          : tokens.data.items.length === 0 ? <p>No tokens.</p>
            : (
              <>
                <Table aria-label={`Tokens of ${account}`} variant="compact">
                  <Thead><Tr><Th>Token</Th><Th>Created</Th><Th>Expires</Th><Th>Last used</Th><Th>State</Th><Th screenReaderText="Actions" /></Tr></Thead>
                  <Tbody>
                    {tokens.data.items.map((t) => (
                      <Tr key={t.metadata.name}>
                        <Td dataLabel="Token" className="berth-mono">{t.metadata.name}</Td>
                        <Td dataLabel="Created">{formatTime(t.metadata.creationTimestamp)}</Td>
                        <Td dataLabel="Expires">{t.spec.expirationTimestamp ? formatTime(t.spec.expirationTimestamp) : 'never'}</Td>
                        <Td dataLabel="Last used">{formatTime(t.status.lastUsedTimestamp)}</Td>
                        <Td dataLabel="State">{t.status.revoked ? <Label color="grey">revoked {formatTime(t.status.revocationTimestamp)}</Label> : <Label color="green">active</Label>}</Td>
                        <Td isActionCell>
                          {canManage && !t.status.revoked ? (
                            <>
                              <Button variant="link" onClick={() => setRotating(t.metadata.name)} aria-label={`Rotate token ${t.metadata.name}`}>Rotate</Button>
                              <Button variant="link" isDanger onClick={() => void action.run(() => api(`${base}/${encodeURIComponent(t.metadata.name)}`, { method: 'DELETE' }))}
                                aria-label={`Revoke token ${t.metadata.name}`}>Revoke</Button>
                            </>
                          ) : null}
                        </Td>
                      </Tr>
                    ))}
                  </Tbody>
                </Table>
                {paging.pager(tokens.data.metadata.continue)}
              </>
            )}
      {canManage ? (
        <Form onSubmit={(e) => { e.preventDefault(); void create(); }} aria-label={`Create a token for ${account}`} className="berth-gap">
          <Flex alignItems={{ default: 'alignItemsFlexEnd' }}>
            <FlexItem>
              <FormGroup label="Expires after (days, empty: never)" fieldId={`token-days-${account}`}>
                <TextInput id={`token-days-${account}`} type="number" min={0} value={days} onChange={(_e, v) => setDays(v)} />
              </FormGroup>
            </FlexItem>
            <FlexItem><Button type="submit" variant="secondary" isLoading={action.busy}>Create token</Button></FlexItem>
          </Flex>
        </Form>
      ) : null}
      {action.error !== undefined ? <Alert variant="danger" isInline title="That did not work" className="berth-gap"><p>{describeError(action.error)}</p></Alert> : null}
      {rotating ? (
        <ConfirmModal title={`Rotate token ${rotating}?`} confirmLabel="Rotate" onClose={() => setRotating(undefined)}
          onConfirm={async () => {
            // Same lifetime as the old token (the API's default); the new secret is shown once, as after Create token,
            // in place of this dialog (both updates in one render, so never two dialogs at once).
            const rotated = await api<ServiceAccountToken>(`${base}/${encodeURIComponent(rotating)}/rotate`, { method: 'POST' });
            setRotating(undefined);
            setCreated(rotated);
            tokens.reload();
          }}>
          <p>A new token replaces it and the old one stops working at once: clients still using it are refused until they get the new one.</p>
          <p className="berth-gap">To switch clients over without a refused request, create a second token instead and revoke this one once nothing uses it.</p>
        </ConfirmModal>
      ) : null}
      {created ? <TokenSecretModal token={created} onClose={() => setCreated(undefined)} /> : null}
    </>
  );
}

function ServiceAccounts({ project, canManage }: { project: string; canManage: boolean }) {
  const base = `namespaces/${encodeURIComponent(project)}/serviceaccounts`;
  const { cursor, limit } = usePageCursor('sa-continue');
  const accounts = useAsync((signal) => listPage<ServiceAccount>(base, limit, cursor, signal), [base, cursor, limit]);
  const [expanded, setExpanded] = useState<string | undefined>(undefined);
  const [name, setName] = useState('');
  const [touched, setTouched] = useState(false);
  const [deleting, setDeleting] = useState<string | undefined>(undefined);
  const action = useAction(accounts.reload);
  const problem = dns1123LabelProblem(name.trim());
  const create = async (): Promise<void> => {
    setTouched(true);
    if (problem) return;
    if (await action.run(() => api(base, { method: 'POST', body: { metadata: { name: name.trim() } } }))) {
      setName('');
      setTouched(false);
    }
  };
  return (
    <section aria-labelledby="service-accounts-title" className="berth-gap">
      <Title headingLevel="h2" id="service-accounts-title">Service accounts</Title>
      <p>Robot accounts for CI and deployments: bind them to a role above, then log in with one of their tokens.</p>
      {canManage ? (
        <Form onSubmit={(e) => { e.preventDefault(); void create(); }} aria-label="Create a service account" className="berth-gap">
          <Flex alignItems={{ default: 'alignItemsFlexEnd' }}>
            <FlexItem>
              <FormGroup label="Service account name" fieldId="sa-name" isRequired>
                <TextInput id="sa-name" value={name} onChange={(_e, v) => setName(v)} validated={touched && problem ? 'error' : 'default'} />
              </FormGroup>
            </FlexItem>
            <FlexItem><Button type="submit" isLoading={action.busy}>Create service account</Button></FlexItem>
          </Flex>
          {touched && problem ? <Alert variant="danger" isInline isPlain title={`Name: ${problem}`} /> : null}
        </Form>
      ) : null}
      {action.error !== undefined ? <Alert variant="danger" isInline title="That did not work" className="berth-gap"><p>{describeError(action.error)}</p></Alert> : null}
      {accounts.error !== undefined ? <ErrorAlert error={accounts.error} title="Service accounts could not be loaded" onRetry={accounts.reload} />
        : accounts.data === undefined ? <Loading what="service accounts" />
          : accounts.data.items.length === 0 && !cursor ? <Empty title="No service accounts" />
            : (
              <>
                <Table aria-label="Service accounts" variant="compact" className="berth-gap">
                  <Thead><Tr>{canManage ? <Th screenReaderText="Show tokens" /> : null}<Th>Name</Th><Th>User name</Th><Th>Created</Th>{canManage ? <Th screenReaderText="Actions" /> : null}</Tr></Thead>
                  {accounts.data.items.map((a, index) => {
                    const open = expanded === a.metadata.name;
                    return (
                      <Tbody key={a.metadata.name} isExpanded={open}>
                        <Tr>
                          {canManage ? (
                            <Td expand={{ rowIndex: index, isExpanded: open, onToggle: () => setExpanded(open ? undefined : a.metadata.name), expandId: `sa-${a.metadata.name}` }} />
                          ) : null}
                          <Td dataLabel="Name">{a.metadata.name}</Td>
                          <Td dataLabel="User name" className="berth-mono">{a.status.username}</Td>
                          <Td dataLabel="Created">{formatTime(a.metadata.creationTimestamp)}</Td>
                          {canManage ? (
                            <Td isActionCell>
                              <Button variant="link" isDanger onClick={() => setDeleting(a.metadata.name)} aria-label={`Delete service account ${a.metadata.name}`}>Delete</Button>
                            </Td>
                          ) : null}
                        </Tr>
                        {canManage && open ? (
                          <Tr isExpanded>
                            <Td colSpan={5}>
                              <ExpandableRowContent>
                                <TokensRow project={project} account={a.metadata.name} canManage={canManage} />
                              </ExpandableRowContent>
                            </Td>
                          </Tr>
                        ) : null}
                      </Tbody>
                    );
                  })}
                </Table>
                <Pager next={accounts.data.metadata.continue} label="Service accounts" param="sa-continue" />
              </>
            )}
      {deleting ? (
        <ConfirmModal title={`Delete service account ${deleting}?`} confirmLabel="Delete" onClose={() => setDeleting(undefined)}
          onConfirm={async () => { await api(`${base}/${encodeURIComponent(deleting)}`, { method: 'DELETE' }); accounts.reload(); }}>
          <p>Its tokens stop working at once and every role binding naming it is removed.</p>
        </ConfirmModal>
      ) : null}
    </section>
  );
}

const MEMBER_VERBS = ['manage-bindings', 'manage-serviceaccounts'] as const;

export function MembersTab({ project }: { project: string }) {
  const session = useSession();
  const ns = `namespaces/${encodeURIComponent(project)}`;
  const state = useAsync(async (signal) => ({ bindings: await listAll<RoleBinding>(`${ns}/rolebindings`, signal) }), [ns, session.user?.metadata.name]);
  const access = useAccess(MEMBER_VERBS, project);
  const action = useAction(state.reload);
  const [removing, setRemoving] = useState<{ role: string; subject: Subject } | undefined>(undefined);
  // One row per subject of each role; the API answers them whole (one binding per role), so they are paged here.
  const rows = (state.data?.bindings ?? []).flatMap((b) => b.subjects.map((s) => ({ role: b.roleRef.name, subject: s })));
  const page = useClientPage(rows, 'members-page', 'Members');

  if (state.error !== undefined) return <div className="berth-gap"><ErrorAlert error={state.error} title="Members could not be loaded" onRetry={state.reload} /></div>;
  // The tab appears whole once the API has said which controls the caller gets: none appears late or goes away.
  if (state.data === undefined || !access.ready) return <Loading what="members" />;
  const { bindings } = state.data;
  const isAdmin = access.can('manage-bindings');
  const canManageAccounts = access.can('manage-serviceaccounts');
  const viewer = bindings.find((b) => b.roleRef.name === 'registry-viewer');
  const anyoneCanPull = viewer?.subjects.some((s) => s.kind === 'Group' && s.name === ANONYMOUS) ?? false;
  const togglePublic = (on: boolean): void => {
    void action.run(() => (on
      ? api(`${ns}/rolebindings/registry-viewer/subjects`, { method: 'POST', body: { kind: 'Group', name: ANONYMOUS } })
      : api(`${ns}/rolebindings/registry-viewer/subjects/Group/${encodeURIComponent(ANONYMOUS)}`, { method: 'DELETE' })));
  };

  return (
    <div className="berth-gap">
      <section aria-labelledby="public-title">
        <Title headingLevel="h2" id="public-title">Public access</Title>
        {isAdmin ? (
          <Switch id="anyone-can-pull" label="Anyone can pull" isChecked={anyoneCanPull} isDisabled={action.busy}
            onChange={(_e, on) => togglePublic(on)} aria-describedby="anyone-can-pull-help" />
        ) : (
          <p data-testid="public-state">{anyoneCanPull ? 'Anyone can pull the images of this project, without signing in.' : 'Only members can pull the images of this project.'}</p>
        )}
        <p id="anyone-can-pull-help" className="berth-gap">
          {isAdmin ? 'Binds registry-viewer to the group system:unauthenticated: anonymous visitors can pull and browse this project.' : null}
        </p>
      </section>
      <section aria-labelledby="members-title" className="berth-gap">
        <Title headingLevel="h2" id="members-title">Members</Title>
        {isAdmin ? <div className="berth-gap"><AddBindingForm project={project} onDone={state.reload} /></div> : null}
        {action.error !== undefined ? <Alert variant="danger" isInline title="That did not work" className="berth-gap"><p>{describeError(action.error)}</p></Alert> : null}
        {rows.length === 0 ? <Empty title="No role bindings" /> : (
          <Table aria-label="Role bindings" variant="compact" className="berth-gap">
            <Thead><Tr><Th>Name</Th><Th>Kind</Th><Th>Role</Th>{isAdmin ? <Th screenReaderText="Actions" /> : null}</Tr></Thead>
            <Tbody>
              {page.items.map(({ role, subject }) => {
                const label = subjectLabel(subject, project);
                return (
                  <Tr key={`${role}|${subject.kind}|${subject.namespace ?? ''}|${subject.name}`} data-testid="binding-row">
                    <Td dataLabel="Name">{label}{subject.name === ANONYMOUS ? <Label isCompact className="berth-user" color="orange"> anyone</Label> : null}</Td>
                    <Td dataLabel="Kind">{subject.kind === 'ServiceAccount' ? 'Service account' : subject.kind}</Td>
                    <Td dataLabel="Role">{role}</Td>
                    {isAdmin ? (
                      <Td isActionCell>
                        <Button variant="link" isDanger onClick={() => setRemoving({ role, subject })} aria-label={`Remove ${role} from ${subject.kind} ${label}`}>Remove</Button>
                      </Td>
                    ) : null}
                  </Tr>
                );
              })}
            </Tbody>
          </Table>
        )}
        {page.pager}
      </section>
      <ServiceAccounts project={project} canManage={canManageAccounts} />
      {removing ? (
        <ConfirmModal title={`Remove ${removing.role} from ${subjectLabel(removing.subject, project)}?`} confirmLabel="Remove" onClose={() => setRemoving(undefined)}
          onConfirm={async () => {
            await api(`${ns}/rolebindings/${removing.role}/subjects/${subjectPath(removing.subject, project)}`, { method: 'DELETE' });
            state.reload();
          }}>
          <p>{removing.subject.kind} {subjectLabel(removing.subject, project)} loses what {removing.role} grants in {project}.</p>
        </ConfirmModal>
      ) : null}
    </div>
  );
}
