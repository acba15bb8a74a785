import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pullCommand, repositoryReference } from './pull-command.ts';

describe('pull command', () => {
  const target = { host: 'localhost:5000', project: 'team', stream: 'tools/app' };
  it('builds podman pull host/project/name:tag', () => {
    assert.equal(pullCommand(target, '1.0'), 'podman pull localhost:5000/team/tools/app:1.0');
    assert.equal(pullCommand(target, 'latest', 'docker'), 'docker pull localhost:5000/team/tools/app:latest');
  });
  it('prefers the repository the server names (its external host)', () => {
    assert.equal(pullCommand({ ...target, repository: 'registry.example.com/team/tools/app/' }, '2'), 'podman pull registry.example.com/team/tools/app:2');
    assert.equal(repositoryReference({ ...target, repository: '  ' }), 'localhost:5000/team/tools/app');
  });
  it('pulls digests with @', () => {
    const digest = `sha256:${'0'.repeat(64)}`;
    assert.equal(pullCommand(target, digest), `podman pull localhost:5000/team/tools/app@${digest}`);
  });
});
