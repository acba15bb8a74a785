/**
 * The web console in a real browser: Playwright (playwright-core) driving
 * Debian's Chromium against a running `berth serve`, which serves the built
 * console at / (consolePlugin) next to /apis and /oauth. Every flow goes
 * through the real login page and the public API, and is checked against
 * the API afterwards. Every request a page makes is recorded: the console
 * may talk to /apis and /oauth only, besides loading its own files.
 * Screenshots of each main page land in test-output/console/.
 *
 * The server runs with self-provisioning off (BERTH_AUTH__SELF_PROVISIONING=false):
 * the admin, a cluster-admin, creates every project, and a plain user may
 * not, which the console must show by offering no "Create project".
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { formatBytesExact, formatSize, formatTime } from '../../web/src/lib/format.ts';
import { layerShares } from '../../web/src/lib/history.ts';
import { PROJECT_ROOT, startBerth, type BerthServer } from '../support/berth-server.ts';
import { createClients, type ContainerClients } from '../support/container-clients.ts';
import { startRemoteRegistry, testImage } from '../support/remote-registry.ts';
import {
  createImageLayout, createIndexLayout, multiArchSpecs, writeBlob, type BuiltImage, type BuiltLayout, type ImageSpec, type OciIndex,
} from '../support/oci-images.ts';

const execFileAsync = promisify(execFile);
const API = '/apis/berth.dev/v1';
const SHOTS = join(PROJECT_ROOT, 'test-output', 'console');
const DIST_INDEX = join(PROJECT_ROOT, 'web', 'dist', 'index.html');
const PROJECT = 'webshop';
/** A project only its creator (the admin) may see: never public, vera is no member. */
const PRIVATE = 'private-lab';
const VIEWER = { username: 'vera', password: 'vera-viewer-password-1' } as const;

const LAUNCH = {
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
    '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
};

async function ensureBuilt(): Promise<void> {
  try {
    await access(DIST_INDEX);
  } catch {
    await execFileAsync(process.execPath, [join(PROJECT_ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', join(PROJECT_ROOT, 'web', 'vite.config.ts'), '--logLevel', 'warn'], { cwd: PROJECT_ROOT });
  }
}

/**
 * A single-arch layout whose config carries extra top-level fields
 * (`docker_version`, which the shared image builder does not write): the
 * image is built as usual, then its config, manifest and tag are replaced.
 */
async function createImageLayoutWithConfig(dir: string, tag: string, spec: ImageSpec, extra: Record<string, unknown>): Promise<BuiltLayout> {
  const built = await createImageLayout(dir, tag, spec);
  const base = built.images[0]!;
  const configBytes = Buffer.from(JSON.stringify({ ...JSON.parse(base.configBytes.toString('utf8')) as object, ...extra }));
  const config = await writeBlob(dir, configBytes);
  const manifest = { ...base.manifest, config: { ...base.manifest.config, digest: config.digest, size: config.size } };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const written = await writeBlob(dir, manifestBytes);
  const indexPath = join(dir, 'index.json');
  const index = JSON.parse(await readFile(indexPath, 'utf8')) as OciIndex;
  index.manifests = index.manifests.map((m) => (m.digest === base.manifestDigest ? { ...m, digest: written.digest, size: manifestBytes.length } : m));
  await writeFile(indexPath, JSON.stringify(index));
  const image: BuiltImage = { ...base, manifestDigest: written.digest, manifestBytes, manifest, configDigest: config.digest, configBytes };
  return { ...built, digest: written.digest, images: [image], blobs: [written.digest, config.digest, ...base.layers.map((l) => l.digest)] };
}

/** What the API says an image weighs (`dockerImageMetadata.Size`): its config plus its layers. */
function imageSize(image: BuiltImage): number {
  return image.configBytes.length + image.layers.reduce((sum, l) => sum + l.size, 0);
}

/**
 * Waits until `check` holds, asking again every 50 ms for up to `timeoutMs` (generous: a loaded two-core CI
 * machine can be slow), and returns as soon as it does; fails with `what` when it never does.
 */
async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() >= deadline) assert.fail(`${what}: still not so after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Presses Tab until `target` has the focus (at most `limit` times), as someone without a mouse would. */
async function tabTo(p: Page, target: Locator, limit = 40): Promise<void> {
  const handle = await target.elementHandle();
  assert.ok(handle, 'the element to reach with Tab exists');
  for (let i = 0; i < limit; i++) {
    await p.keyboard.press('Tab');
    if (await handle.evaluate((el) => el === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement)) return;
  }
  assert.fail(`Tab did not reach the element within ${limit} presses`);
}

describe('web console in Chromium', { concurrency: false, timeout: 300_000 }, () => {
  let server: BerthServer;
  let browser: Browser;
  let admin: BrowserContext;
  let page: Page;
  let viewer: BrowserContext | undefined;
  let viewerPage: Page;
  let adminAuth: string;
  /** Same-origin requests that were neither /apis, /oauth nor the console's own files; and how many /apis calls were seen. */
  const strayRequests: string[] = [];
  let apiRequests = 0;

  /** A call to the resource API with the admin's (or other) credentials. */
  async function apiCall(method: string, path: string, body?: unknown, authorization: string | undefined = adminAuth): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await fetch(`${server.url}${API}/${path}`, {
      method,
      headers: { ...(authorization ? { authorization } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) as Record<string, unknown> : {} };
  }

  async function subjectsOf(role: string): Promise<Array<{ kind: string; name: string }>> {
    const { status, json } = await apiCall('GET', `namespaces/${PROJECT}/rolebindings/${role}`);
    assert.equal(status, 200);
    return json['subjects'] as Array<{ kind: string; name: string }>;
  }

  async function shot(p: Page, name: string): Promise<void> {
    await p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  }

  /** Through the console's Sign in button and the server's login page, back to the console. */
  async function signIn(p: Page, credentials: { username: string; password: string }, start = '/console/projects'): Promise<void> {
    await p.goto(`${server.url}${start}`);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.waitForURL(/\/oauth\/authorize\?/);
    await p.locator('#username').fill(credentials.username);
    await p.locator('#password').fill(credentials.password);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.waitForURL((url) => url.pathname === start);
    await p.getByTestId('signed-in-user').filter({ hasText: credentials.username }).waitFor();
  }

  /**
   * Records where the console sends requests. Allowed: page loads of the
   * console and the OAuth pages, fetches to /apis/ and /oauth/, and the
   * console's own files (/console/assets/, /console/favicon.svg). Anything
   * else, another origin included, is a stray request.
   */
  function watchRequests(context: BrowserContext): void {
    const origin = new URL(server.url).origin;
    context.on('request', (request) => {
      const url = new URL(request.url());
      if (url.protocol === 'data:' || url.protocol === 'blob:' || url.protocol === 'about:') return;
      const type = request.resourceType();
      const path = url.pathname;
      const ok = url.origin === origin && (
        type === 'document' ? path === '/' || path === '/console' || path.startsWith('/console/') || path.startsWith('/oauth/')
          : type === 'fetch' || type === 'xhr' ? path.startsWith('/apis/') || path.startsWith('/oauth/')
            // Chromium asks for /favicon.ico by itself on the OAuth pages, which link no icon.
            : path.startsWith('/console/assets/') || path === '/console/favicon.svg' || path === '/favicon.ico');
      if (!ok) strayRequests.push(`${type} ${request.method()} ${request.url()}`);
      if (url.origin === origin && path.startsWith('/apis/')) apiRequests++;
    });
  }

  async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: 1366, height: 850 }, permissions: ['clipboard-read', 'clipboard-write'] });
    watchRequests(context);
    return { context, page: await context.newPage() };
  }

  before(async () => {
    await mkdir(SHOTS, { recursive: true });
    await ensureBuilt();
    // Plain HTTP, so the browser needs no trust for Berth's own CA.
    server = await startBerth({ insecureHttp: true, env: { BERTH_AUTH__SELF_PROVISIONING: 'false' } });
    adminAuth = `Basic ${Buffer.from(`${server.credentials!.username}:${server.credentials!.password}`).toString('base64')}`;
    const root = await fetch(`${server.url}/`);
    const html = await root.text();
    assert.ok(root.status === 200 && html.includes('<div id="root">'),
      `berth serve does not serve the console at / (consolePlugin not registered in the composition root?): ${root.status} ${html.slice(0, 200)}`);
    assert.equal((await apiCall('POST', 'users', { metadata: { name: VIEWER.username }, spec: { password: VIEWER.password } })).status, 201);
    browser = await chromium.launch(LAUNCH);
    ({ context: admin, page } = await newPage());
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('an anonymous visitor sees the public catalogue and reaches Sign in with the keyboard alone', async () => {
    const { context, page: anon } = await newPage();
    await anon.goto(`${server.url}/`);
    await anon.waitForURL(/\/console\/projects$/);
    await anon.getByRole('heading', { name: 'Projects', exact: true }).waitFor();
    await anon.getByText('No project is public yet.').waitFor();
    const signInButton = anon.getByRole('button', { name: 'Sign in' });
    await tabTo(anon, signInButton);
    await anon.keyboard.press('Enter');
    await anon.waitForURL(/\/oauth\/authorize\?/);
    await anon.locator('#username').waitFor();
    await context.close();
  });

  test('the admin signs in through the login page', async () => {
    await signIn(page, server.credentials!);
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await shot(page, 'projects-empty');
  });

  test('creating a project in the modal', async () => {
    await page.getByRole('button', { name: 'Create project' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.locator('#project-name').fill('Bad_Name');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await dialog.getByText(/Lowercase letters, digits/).first().waitFor();
    await dialog.locator('#project-name').fill(PROJECT);
    await dialog.locator('#project-display-name').fill('Web shop');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await page.waitForURL((url) => url.pathname === `/console/projects/${PROJECT}`);
    await page.getByRole('heading', { name: `Web shop (${PROJECT})` }).waitFor();
    const created = await apiCall('GET', `projects/${PROJECT}`);
    assert.equal(created.status, 200);
    assert.deepEqual(created.json['spec'], { displayName: 'Web shop' });
    // The list shows it, and the page reloads at its own URL.
    await page.goto(`${server.url}/console/projects`);
    await page.getByRole('link', { name: PROJECT }).waitFor();
    await shot(page, 'projects');
    await page.getByRole('link', { name: PROJECT }).click();
    await page.waitForURL((url) => url.pathname === `/console/projects/${PROJECT}`);
    await page.getByText('No image streams').waitFor();
  });

  test('granting and revoking a role on the Members tab (reached by keyboard, without a page load), as the API sees it', async () => {
    // A page load would drop this mark: the tab switch must happen inside the console.
    await page.evaluate(() => { (globalThis as unknown as { berthMark: number }).berthMark = 1; });
    await tabTo(page, page.getByRole('tab', { name: 'Members' }));
    await page.keyboard.press('Enter');
    await page.waitForURL((url) => url.pathname === `/console/projects/${PROJECT}/members`);
    await page.getByRole('grid', { name: 'Role bindings' }).or(page.getByRole('table', { name: 'Role bindings' })).first().waitFor();
    assert.equal(await page.evaluate(() => (globalThis as unknown as { berthMark?: number }).berthMark), 1, 'the Members tab opened without a page load');
    assert.equal(await page.getByRole('tab', { name: 'Members' }).getAttribute('href'), `/console/projects/${PROJECT}/members`, 'the tab is still a shareable link');

    await page.locator('#binding-role').selectOption('registry-viewer');
    await page.locator('#binding-kind').selectOption('User');
    await page.locator('#binding-name').fill(VIEWER.username);
    await page.getByRole('button', { name: 'Add member' }).click();
    const row = page.getByTestId('binding-row').filter({ hasText: VIEWER.username });
    await row.waitFor();
    assert.ok((await subjectsOf('registry-viewer')).some((s) => s.kind === 'User' && s.name === VIEWER.username), 'the API shows the new binding');
    await shot(page, 'members');

    await page.getByRole('button', { name: `Remove registry-viewer from User ${VIEWER.username}` }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Remove' }).click();
    await row.waitFor({ state: 'detached' });
    assert.ok(!(await subjectsOf('registry-viewer')).some((s) => s.name === VIEWER.username), 'the API no longer shows it');

    // And back to Image streams by a click, still without a page load.
    await page.getByRole('tab', { name: 'Image streams' }).click();
    await page.waitForURL((url) => url.pathname === `/console/projects/${PROJECT}`);
    await page.getByText('No image streams').waitFor();
    assert.equal(await page.evaluate(() => (globalThis as unknown as { berthMark?: number }).berthMark), 1);
    await page.getByRole('tab', { name: 'Members' }).click();
    await page.getByRole('switch', { name: 'Anyone can pull' }).waitFor();
  });

  test('"Anyone can pull" makes the project visible to anonymous visitors', async () => {
    const toggle = page.getByRole('switch', { name: 'Anyone can pull' });
    assert.equal(await toggle.isChecked(), false);
    // The switch follows the API: it flips once the binding is made, so click rather than check().
    await toggle.click({ force: true });
    await page.getByTestId('binding-row').filter({ hasText: 'system:unauthenticated' }).waitFor();
    assert.ok((await subjectsOf('registry-viewer')).some((s) => s.kind === 'Group' && s.name === 'system:unauthenticated'));
    assert.equal(await toggle.isChecked(), true);

    const { context, page: anon } = await newPage();
    await anon.goto(`${server.url}/console/projects`);
    await anon.getByRole('link', { name: PROJECT }).click();
    await anon.getByRole('tab', { name: 'Members' }).click();
    await anon.getByTestId('public-state').filter({ hasText: 'Anyone can pull' }).waitFor();
    assert.equal(await anon.getByRole('switch').count(), 0, 'no switch for anonymous visitors');
    assert.equal(await anon.getByRole('button', { name: 'Add member' }).count(), 0);
    await shot(anon, 'anonymous-project');
    await context.close();
  });

  test('a viewer does not see the admin controls', async () => {
    await apiCall('POST', `namespaces/${PROJECT}/rolebindings/registry-viewer/subjects`, { kind: 'User', name: VIEWER.username });
    ({ context: viewer, page: viewerPage } = await newPage());
    await signIn(viewerPage, VIEWER, `/console/projects/${PROJECT}/members`);
    await viewerPage.getByTestId('binding-row').filter({ hasText: VIEWER.username }).waitFor();
    await viewerPage.getByText('Service accounts', { exact: true }).waitFor();
    assert.equal(await viewerPage.getByRole('button', { name: 'Add member' }).count(), 0);
    assert.equal(await viewerPage.getByRole('switch').count(), 0);
    assert.equal(await viewerPage.getByRole('button', { name: /^Remove / }).count(), 0);
    assert.equal(await viewerPage.getByRole('button', { name: 'Create service account' }).count(), 0);
    assert.equal(await viewerPage.getByRole('button', { name: 'Delete project' }).count(), 0);
    await shot(viewerPage, 'members-as-viewer');
  });

  test('with self-provisioning off, a plain user is offered no Create project; the admin is', async () => {
    const vera = `Basic ${Buffer.from(`${VIEWER.username}:${VIEWER.password}`).toString('base64')}`;
    const asked = await apiCall('POST', 'selfsubjectaccessreviews', { spec: { verb: 'create-project' } }, vera);
    assert.deepEqual(asked.json['status'], { allowed: false, reason: `user "${VIEWER.username}" may not create projects: self-provisioning is off` });
    assert.equal((await apiCall('POST', 'projects', { metadata: { name: 'vera-own' } }, vera)).status, 403, 'the API refuses vera a project');
    /** Loads the projects page and waits until the API has answered whether the caller may create projects. */
    const openProjects = async (p: Page): Promise<void> => {
      const answered = p.waitForResponse((r) => r.url().endsWith('/selfsubjectaccessreviews') && r.request().method() === 'POST');
      await p.goto(`${server.url}/console/projects`);
      await answered;
      await p.getByRole('link', { name: PROJECT, exact: true }).waitFor();
    };
    await openProjects(viewerPage);
    assert.equal(await viewerPage.getByRole('button', { name: 'Create project' }).count(), 0, 'vera sees no Create project');
    await shot(viewerPage, 'projects-as-viewer');
    await openProjects(page);
    await page.getByRole('button', { name: 'Create project' }).waitFor();
    // Back where the next test starts: the admin on the project's Members tab.
    await page.goto(`${server.url}/console/projects/${PROJECT}/members`);
    await page.locator('#sa-name').waitFor();
  });

  test('a service account token is shown once, works, and is revoked', async () => {
    await page.locator('#sa-name').fill('ci');
    await page.getByRole('button', { name: 'Create service account' }).click();
    await page.getByRole('button', { name: 'Delete service account ci' }).waitFor();
    await page.locator('#sa-ci, [id^="sa-ci"]').first().click();
    await page.getByRole('button', { name: 'Create token' }).click();
    const dialog = page.getByRole('dialog');
    const secret = await dialog.getByRole('textbox', { name: 'Token' }).inputValue();
    assert.match(secret, /^berth_sa_/);
    await shot(page, 'token-created');
    const me = await apiCall('GET', 'users/~', undefined, `Bearer ${secret}`);
    assert.equal(me.status, 200);
    assert.equal((me.json['metadata'] as { name: string }).name, `system:serviceaccount:${PROJECT}:ci`);
    await dialog.getByRole('button', { name: 'I have copied it' }).click();
    await page.getByRole('button', { name: /^Revoke token / }).click();
    await page.getByText(/^revoked/).waitFor();
    assert.equal((await apiCall('GET', 'users/~', undefined, `Bearer ${secret}`)).status, 401);
  });

  test('members, service accounts and tokens are paged, and a page has its own URL', async () => {
    for (const name of ['build', 'deploy']) {
      assert.equal((await apiCall('POST', `namespaces/${PROJECT}/serviceaccounts`, { metadata: { name } })).status, 201);
    }
    for (let i = 0; i < 3; i++) assert.equal((await apiCall('POST', `namespaces/${PROJECT}/serviceaccounts/ci/tokens`)).status, 201);
    const allTokens = ((await apiCall('GET', `namespaces/${PROJECT}/serviceaccounts/ci/tokens`)).json['items'] as Array<{ metadata: { name: string } }>)
      .map((t) => t.metadata.name);
    assert.equal(allTokens.length, 4);
    // Three member rows (the admin, vera, system:unauthenticated), three accounts, four tokens: pages of two.
    await page.goto(`${server.url}/console/projects/${PROJECT}/members?limit=2`);
    const members = page.getByTestId('binding-row');
    await members.nth(1).waitFor();
    assert.equal(await members.count(), 2);
    const firstMembers = await members.allTextContents();
    const memberPages = page.getByRole('navigation', { name: 'Members pages' });
    await memberPages.getByRole('button', { name: 'Go to next page' }).click();
    await page.waitForURL((url) => url.searchParams.get('members-page') === '2');
    await members.first().filter({ hasNotText: firstMembers[0]! }).waitFor();
    assert.equal(await members.count(), 1);
    const lastMember = await members.first().textContent();
    await page.reload();
    await members.first().filter({ hasText: lastMember! }).waitFor();
    assert.equal(await members.count(), 1, 'the page of members is in the URL');

    const accounts = page.getByRole('grid', { name: 'Service accounts' }).or(page.getByRole('table', { name: 'Service accounts' })).first();
    const accountNames = accounts.locator('td[data-label="Name"]');
    await accountNames.nth(1).waitFor();
    assert.deepEqual(await accountNames.allTextContents(), ['build', 'ci']);
    await page.getByRole('navigation', { name: 'Service accounts pages' }).getByRole('button', { name: 'Next page' }).click();
    await page.waitForURL((url) => url.searchParams.has('sa-continue'));
    await accountNames.first().filter({ hasText: 'deploy' }).waitFor();
    assert.deepEqual(await accountNames.allTextContents(), ['deploy']);
    await page.getByRole('navigation', { name: 'Service accounts pages' }).getByRole('button', { name: 'Previous page' }).click();
    await accountNames.nth(1).filter({ hasText: 'ci' }).waitFor();

    await page.locator('[id^="sa-ci"]').first().click();
    const tokens = page.locator('table[aria-label="Tokens of ci"] td[data-label="Token"]');
    await tokens.nth(1).waitFor();
    const tokenPage1 = await tokens.allTextContents();
    assert.equal(tokenPage1.length, 2);
    await page.getByRole('navigation', { name: 'Tokens of ci pages' }).getByRole('button', { name: 'Next page' }).click();
    await tokens.first().filter({ hasNotText: tokenPage1[0]! }).waitFor();
    const tokenPage2 = await tokens.allTextContents();
    assert.deepEqual([...tokenPage1, ...tokenPage2].sort(), [...allTokens].sort(), 'two pages hold every token once');
    assert.equal(await page.getByRole('navigation', { name: 'Tokens of ci pages' }).getByRole('button', { name: 'Next page' }).isDisabled(), true, 'no page after the last');
    await shot(page, 'members-paged');
  });

  test('rotating a service account token shows the new secret once; the old one stops working on /apis and /v2, the new one works', async () => {
    const created = await apiCall('POST', `namespaces/${PROJECT}/serviceaccounts/ci/tokens`);
    assert.equal(created.status, 201);
    const oldId = (created.json['metadata'] as { name: string }).name;
    const oldSecret = (created.json['status'] as { token: string }).token;
    /** What the API and a registry login (the token endpoint podman login uses, Basic auth) say of a secret. */
    const answers = async (secret: string): Promise<{ api: number; v2: number }> => {
      const v2 = await fetch(`${server.url}/v2/token?scope=${encodeURIComponent(`repository:${PROJECT}/app:pull`)}`, {
        headers: { authorization: `Basic ${Buffer.from(`ci:${secret}`).toString('base64')}` },
      });
      await v2.arrayBuffer();
      return { api: (await apiCall('GET', 'users/~', undefined, `Bearer ${secret}`)).status, v2: v2.status };
    };
    assert.deepEqual(await answers(oldSecret), { api: 200, v2: 200 }, 'the old token works before');

    await page.goto(`${server.url}/console/projects/${PROJECT}/members`);
    await page.locator('[id^="sa-ci"]').first().click();
    await page.getByRole('button', { name: `Rotate token ${oldId}` }).click();
    const confirm = page.getByRole('dialog');
    await confirm.getByText(`Rotate token ${oldId}?`).waitFor();
    await confirm.getByRole('button', { name: 'Rotate', exact: true }).click();
    const shown = page.getByRole('dialog').filter({ hasText: 'New token for ci' });
    const newSecret = await shown.getByRole('textbox', { name: 'Token' }).inputValue();
    assert.match(newSecret, /^berth_sa_/);
    assert.notEqual(newSecret, oldSecret);
    assert.match(await shown.getByTestId('rotated-from').textContent() ?? '', new RegExp(`replaces token ${oldId}, which no longer works`));
    await shot(page, 'token-rotated');
    await shown.getByRole('button', { name: 'I have copied it' }).click();
    await shown.waitFor({ state: 'detached' });

    // The list: the old token is revoked (no Rotate or Revoke any more), its successor is active.
    const tokens = page.locator('table[aria-label="Tokens of ci"] tbody tr');
    const oldRow = tokens.filter({ hasText: oldId });
    await oldRow.getByText(/^revoked/).waitFor();
    assert.equal(await oldRow.getByRole('button').count(), 0);
    const listed = (await apiCall('GET', `namespaces/${PROJECT}/serviceaccounts/ci/tokens`)).json['items'] as Array<{ metadata: { name: string }; status: { revoked: boolean } }>;
    const successor = listed.at(-1)!;
    assert.equal(successor.status.revoked, false);
    await tokens.filter({ hasText: successor.metadata.name }).getByRole('button', { name: `Rotate token ${successor.metadata.name}` }).waitFor();

    assert.deepEqual(await answers(oldSecret), { api: 401, v2: 401 }, 'the old token is refused on /apis and /v2');
    assert.deepEqual(await answers(newSecret), { api: 200, v2: 200 }, 'the new one works on both');
  });

  describe('image pages', () => {
    let work: string;
    let tools: ContainerClients;
    let single: BuiltLayout;
    let multi: BuiltLayout;
    /** One anonymous visitor for the image pages (a context keeps the console's files cached between pages). */
    let anonContext: BrowserContext | undefined;
    let anon: Page;
    const spec: ImageSpec = {
      layers: [{ size: 300_000, seed: 'console-0' }, { size: 40_000, seed: 'console-1' }, { size: 1_200_000, seed: 'console-2', files: 3 }],
      author: 'Console Tester <console@example.test>',
      labels: { 'org.opencontainers.image.title': 'console-e2e', 'org.example.tier': 'frontend' },
      env: ['PATH=/usr/bin:/bin', 'MODE=console'],
      cmd: ['serve', '--port=8080'],
      entrypoint: ['/app/run'],
      exposedPorts: ['8080/tcp'],
      workingDir: '/srv/app',
      user: '1001',
      created: '2026-02-03T04:05:06Z',
      annotations: { 'org.opencontainers.image.source': 'https://git.example.test/webshop', 'org.example.build': '42' },
    };
    const DOCKER_VERSION = '27.3.1';

    before(async () => {
      work = await mkdtemp(join(tmpdir(), 'berth-e2e-console-'));
      tools = await createClients({ workDir: join(work, 'clients'), insecure: true, credentials: server.credentials, registry: server.hostPort });
      single = await createImageLayoutWithConfig(join(work, 'single'), '1.0', spec, { docker_version: DOCKER_VERSION });
      multi = await createIndexLayout(join(work, 'multi'), '2.0', multiArchSpecs(spec));
      await tools.skopeoCopy(single.ref, `docker://${server.hostPort}/${PROJECT}/app:1.0`, ['--preserve-digests']);
      await tools.skopeoCopy(multi.ref, `docker://${server.hostPort}/${PROJECT}/multi:2.0`, ['--all', '--preserve-digests']);
      // A private project with a stream only the admin may see.
      assert.equal((await apiCall('POST', 'projects', { metadata: { name: PRIVATE } })).status, 201);
      assert.equal((await apiCall('POST', `namespaces/${PRIVATE}/imagestreams`, { metadata: { name: 'hidden-app' } })).status, 201);
      ({ context: anonContext, page: anon } = await newPage());
    });
    after(async () => {
      await anonContext?.close();
      await tools?.cleanup();
      if (work) await rm(work, { recursive: true, force: true });
    });

    /** The API's view of one tag: the digest it points at, or undefined when it answers 404. */
    async function tagDigest(stream: string, tag: string): Promise<string | undefined> {
      const { status, json } = await apiCall('GET', `namespaces/${PROJECT}/imagestreamtags/${stream}:${tag}`);
      if (status === 404) return undefined;
      assert.equal(status, 200, `GET imagestreamtags/${stream}:${tag}: ${JSON.stringify(json)}`);
      return ((json['image'] as { metadata: { name: string } }).metadata.name);
    }

    /** A stream page's row for one tag (by its link, so "1.0" does not match "1.0-rc"). */
    const tagRow = (p: Page, tag: string) => p.getByTestId('tag-row').filter({ has: p.getByRole('link', { name: tag, exact: true }) });
    /** The history table a tag row opens, once opened. */
    async function openHistory(p: Page, stream: string, tag: string) {
      await tagRow(p, tag).locator('td').first().getByRole('button').click();
      const history = p.locator(`table[aria-label="History of ${stream}:${tag}"]`);
      await history.locator('tbody tr').first().waitFor();
      return history;
    }
    /**
     * Loads a stream page and waits until the API has said what the caller may do there (so missing controls are really missing):
     * the self access reviews of push and delete in this project, asked for anonymous visitors too. The page shows its tags only
     * once they are answered; waiting for the answers as well keeps the checks honest should that ever change.
     */
    async function openStreamAs(p: Page, path: string): Promise<void> {
      const answers = ['push', 'delete'].map((verb) => p.waitForResponse((r) => {
        if (!r.url().endsWith('/selfsubjectaccessreviews') || r.request().method() !== 'POST') return false;
        const spec = (r.request().postDataJSON() as { spec?: { verb?: string; namespace?: string } } | null)?.spec;
        return spec?.verb === verb && spec.namespace === PROJECT;
      }));
      await p.goto(`${server.url}${path}`);
      await Promise.all(answers);
    }

    test('the project lists its streams with latest tags, last update and size (a multi-arch one: its default platform\'s)', async () => {
      await page.goto(`${server.url}/console/projects/${PROJECT}`);
      const rows = page.getByTestId('stream-row');
      const appRow = rows.filter({ has: page.getByRole('link', { name: 'app', exact: true }) });
      const multiRow = rows.filter({ has: page.getByRole('link', { name: 'multi', exact: true }) });
      await appRow.locator('td[data-label="Size"]').filter({ hasText: formatSize(imageSize(single.images[0]!)) }).waitFor();
      await multiRow.locator('td[data-label="Size"]').filter({ hasText: `${formatSize(imageSize(multi.images[0]!))} linux/amd64` }).waitFor();
      assert.equal(await rows.count(), 2);
      assert.deepEqual(await appRow.locator('td[data-label="Latest tags"] a').allTextContents(), ['1.0']);
      assert.deepEqual(await multiRow.locator('td[data-label="Latest tags"] a').allTextContents(), ['2.0']);
      for (const row of [appRow, multiRow]) assert.match(await row.locator('td[data-label="Last updated"]').textContent() ?? '', /^(just now|\d+ minutes? ago)$/);
      assert.equal(await appRow.locator('td[data-label="Size"] span').first().getAttribute('title'), formatBytesExact(imageSize(single.images[0]!)));
      await shot(page, 'project-image-streams');
      // The list pages too (?limit=1): the second stream is on the next page.
      await page.goto(`${server.url}/console/projects/${PROJECT}?limit=1`);
      await appRow.waitFor();
      await page.getByRole('navigation', { name: 'Image streams pages' }).getByRole('button', { name: 'Next page' }).click();
      await multiRow.waitFor();
      assert.equal(await rows.count(), 1);
    });

    test('search finds the pushed streams; another user does not find a private project\'s stream', async () => {
      await page.getByRole('searchbox', { name: 'Search image streams' }).or(page.getByRole('textbox', { name: 'Search image streams' })).first().fill('app');
      await page.keyboard.press('Enter');
      await page.waitForURL((url) => url.pathname === '/console/search' && url.searchParams.get('q') === 'app');
      const results = page.locator('table[aria-label="Search results"] tbody tr');
      await results.nth(1).waitFor();
      const found = async (p: Page) => (await p.locator('table[aria-label="Search results"] tbody tr').evaluateAll((rows) =>
        rows.map((r) => `${r.querySelector('td[data-label="Project"]')?.textContent}/${r.querySelector('td[data-label="Image stream"]')?.textContent}`))).sort();
      assert.deepEqual(await found(page), [`${PRIVATE}/hidden-app`, `${PROJECT}/app`], 'the admin finds both');
      await shot(page, 'search');
      await page.goto(`${server.url}/console/search?q=multi`);
      await results.first().filter({ hasText: 'multi' }).waitFor();
      assert.deepEqual(await found(page), [`${PROJECT}/multi`]);
      assert.match(await results.first().locator('td[data-label="Tags"]').textContent() ?? '', /^2\.0$/);

      await viewerPage.goto(`${server.url}/console/search?q=app`);
      await viewerPage.locator('table[aria-label="Search results"] tbody tr').first().waitFor();
      assert.deepEqual(await found(viewerPage), [`${PROJECT}/app`], 'vera, no member of the private project, does not find its stream');
    });

    test('Details, Config and Layers show exactly the pushed image', async () => {
      const image = single.images[0]!;
      const config = JSON.parse(image.configBytes.toString('utf8')) as { history: Array<{ created_by: string }> };
      await page.goto(`${server.url}/console/projects/${PROJECT}/imagestreams/app/-/tags/1.0`);
      await page.getByTestId('author').filter({ hasText: spec.author! }).waitFor();
      assert.equal(await page.getByTestId('digest').textContent(), image.manifestDigest);
      assert.equal(await page.getByTestId('image-id').textContent(), image.configDigest);
      assert.equal(await page.getByTestId('platform').textContent(), 'linux/amd64');
      assert.equal(await page.getByTestId('created').textContent(), formatTime(spec.created));
      assert.equal(await page.getByTestId('docker-version').textContent(), DOCKER_VERSION);
      const keyValues = async (testId: string): Promise<Record<string, string>> => Object.fromEntries(await page.getByTestId(testId).locator('tr').evaluateAll((rows) =>
        rows.map((r) => [r.querySelector('td:nth-child(1)')?.textContent ?? '', r.querySelector('td:nth-child(2)')?.textContent ?? ''])));
      assert.deepEqual(await keyValues('labels'), spec.labels);
      assert.deepEqual(await keyValues('annotations'), spec.annotations);
      // The copy button puts the pull command on the clipboard.
      const pull = `podman pull ${server.hostPort}/${PROJECT}/app:1.0`;
      assert.equal(await page.getByRole('textbox', { name: 'Pull command' }).inputValue(), pull);
      await page.getByRole('button', { name: 'Copy the pull command', exact: true }).click();
      const clipboard = (): Promise<string> => page.evaluate(() => (globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }).navigator.clipboard.readText());
      // The copy is asynchronous (navigator.clipboard.writeText): wait for it, however long a loaded machine takes.
      await eventually(async () => await clipboard() === pull, 'the pull command is on the clipboard');
      assert.equal(await clipboard(), pull);
      await shot(page, 'tag-details');

      await page.getByRole('tab', { name: 'Config' }).click();
      await page.getByTestId('history-row').first().waitFor();
      const steps = await page.getByTestId('history-row').locator('pre').allTextContents();
      assert.deepEqual(steps, config.history.map((h) => h.created_by));
      assert.deepEqual(await page.getByTestId('entrypoint').locator('li').allTextContents(), spec.entrypoint);
      assert.deepEqual(await page.getByTestId('cmd').locator('li').allTextContents(), spec.cmd);
      assert.deepEqual(await page.getByTestId('env').locator('li').allTextContents(), spec.env);
      assert.deepEqual(await page.getByTestId('ports').locator('li').allTextContents(), spec.exposedPorts);
      assert.equal(await page.getByTestId('workdir').textContent(), spec.workingDir);
      assert.equal(await page.getByTestId('user').textContent(), spec.user);
      assert.deepEqual(await keyValues('config-labels'), spec.labels);
      await shot(page, 'tag-config');

      await page.getByRole('tab', { name: 'Layers' }).click();
      await page.getByTestId('layer-digest').first().waitFor();
      assert.deepEqual(await page.getByTestId('layer-digest').allTextContents(), image.layers.map((l) => l.digest));
      assert.deepEqual(await page.getByTestId('layer-size').allTextContents(), image.layers.map((l) => formatSize(l.size)));
      const exact = await page.getByTestId('layer-size').evaluateAll((cells) => cells.map((c) => c.getAttribute('title')));
      assert.deepEqual(exact, image.layers.map((l) => formatBytesExact(l.size)));
      const total = image.layers.reduce((sum, l) => sum + l.size, 0);
      assert.equal(await page.getByTestId('layers-total').textContent(), formatSize(total));
      // The bar: one segment per layer, each as wide as its share, and the same in words for screen readers.
      const { shares } = layerShares(image.layers.map((l) => ({ name: l.digest, size: l.size })));
      const bar = page.getByTestId('layer-bar');
      assert.equal(await bar.getAttribute('aria-label'), `Relative layer sizes: ${shares.map((s, i) => `layer ${i + 1} ${s.toFixed(1)}%`).join(', ')}`);
      const widths = await bar.locator('span').evaluateAll((spans) => spans.map((s) => s.getBoundingClientRect().width));
      const barWidth = (await bar.boundingBox())!.width;
      assert.equal(widths.length, image.layers.length);
      widths.forEach((w, i) => assert.ok(Math.abs(w / barWidth * 100 - shares[i]!) < 1.5, `layer ${i + 1} is ${(w / barWidth * 100).toFixed(1)}% of the bar, its share is ${shares[i]!.toFixed(1)}%`));
      await shot(page, 'tag-layers');
    });

    test('the platform selector switches every tab of a multi-arch image', async () => {
      const [amd64, arm64] = multi.images;
      const stepsOf = (image: BuiltImage) => (JSON.parse(image.configBytes.toString('utf8')) as { history: Array<{ created_by: string }> }).history.map((h) => h.created_by);
      assert.notDeepEqual(stepsOf(amd64!), stepsOf(arm64!), 'the two platforms have different build steps');
      await page.goto(`${server.url}/console/projects/${PROJECT}/imagestreams/multi/-/tags/2.0`);
      await page.getByTestId('digest').filter({ hasText: amd64!.manifestDigest }).waitFor();
      assert.equal(await page.getByTestId('index-digest').textContent(), multi.digest);
      await page.locator('#platform-select').selectOption('linux/arm64/v8');
      await page.waitForURL((url) => url.searchParams.get('platform') === 'linux/arm64/v8');
      await page.getByTestId('digest').filter({ hasText: arm64!.manifestDigest }).waitFor();
      assert.equal(await page.getByTestId('image-id').textContent(), arm64!.configDigest);
      assert.equal(await page.getByTestId('platform').textContent(), 'linux/arm64/v8');
      await shot(page, 'tag-multiarch');
      await page.getByRole('tab', { name: 'Config' }).click();
      await page.getByTestId('history-row').first().filter({ hasText: stepsOf(arm64!)[0]! }).waitFor();
      assert.deepEqual(await page.getByTestId('history-row').locator('pre').allTextContents(), stepsOf(arm64!));
      // Back to amd64 on the Config tab: the steps follow.
      await page.locator('#platform-select').selectOption('linux/amd64');
      await page.getByTestId('history-row').first().filter({ hasText: stepsOf(amd64!)[0]! }).waitFor();
      assert.deepEqual(await page.getByTestId('history-row').locator('pre').allTextContents(), stepsOf(amd64!));
      await page.locator('#platform-select').selectOption('linux/arm64/v8');
      await page.getByRole('tab', { name: 'Layers' }).click();
      await page.getByTestId('layer-digest').first().filter({ hasText: arm64!.layers[0]!.digest }).waitFor();
      assert.deepEqual(await page.getByTestId('layer-digest').allTextContents(), arm64!.layers.map((l) => l.digest));
      // The choice is in the URL: a reload shows the same platform.
      await page.reload();
      await page.getByTestId('layer-digest').first().filter({ hasText: arm64!.layers[0]!.digest }).waitFor();
    });

    test('the stream page shows the pushed tag with its source and a pull command', async () => {
      await page.goto(`${server.url}/console/projects/${PROJECT}`);
      await page.getByRole('link', { name: 'app', exact: true }).click();
      await page.waitForURL((url) => url.pathname === `/console/projects/${PROJECT}/imagestreams/app`);
      await tagRow(page, '1.0').waitFor();
      assert.match(await page.getByTestId('pull-command').first().textContent() ?? '', new RegExp(`podman pull .+/${PROJECT}/app:1\\.0`));
      assert.equal(await tagRow(page, '1.0').locator('td[data-label="From"]').textContent(), 'pushed');
      await shot(page, 'stream');
    });

    test('rolling a tag back to an older history item, confirmed in the dialog; the history says what each item was', async () => {
      const older = single.digest;
      const newer = await createImageLayout(join(work, 'second'), '1.0', {
        ...spec, layers: [{ size: 50_000, seed: 'console-second-0' }], labels: { 'org.opencontainers.image.title': 'console-e2e-second' },
      });
      assert.notEqual(newer.digest, older);
      await tools.skopeoCopy(newer.ref, `docker://${server.hostPort}/${PROJECT}/app:1.0`, ['--preserve-digests']);
      assert.equal(await tagDigest('app', '1.0'), newer.digest, 'the second push moved the tag');
      const before = await apiCall('GET', `namespaces/${PROJECT}/imagestreams/app`);
      const items = ((before.json['status'] as { tags: Array<{ tag: string; items: Array<{ image: string; generation: number }> }> })
        .tags.find((t) => t.tag === '1.0'))!.items;
      assert.deepEqual(items.map((i) => i.image), [newer.digest, older], 'two history items, newest first');
      const olderGeneration = items[1]!.generation;

      await page.goto(`${server.url}/console/projects/${PROJECT}/imagestreams/app`);
      const row = tagRow(page, '1.0');
      await row.locator(`td[title="${newer.digest}"]`).waitFor();
      const history = await openHistory(page, 'app', '1.0');
      await history.locator('tbody tr').nth(1).waitFor();
      assert.deepEqual(await history.locator('tbody tr td[data-label="Image"]').evaluateAll((cells) => cells.map((c) => c.getAttribute('title'))), [newer.digest, older]);
      assert.deepEqual(await history.locator('td[data-label="Source"]').allTextContents(), ['pushed', 'pushed']);
      await history.getByRole('button', { name: `Roll 1.0 back to generation ${olderGeneration}` }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByText('Roll app:1.0 back?').waitFor();
      await shot(page, 'rollback-confirm');
      await dialog.getByRole('button', { name: 'Roll back', exact: true }).click();
      await dialog.waitFor({ state: 'detached' });

      // The API: the tag points at the older digest again, through a new history item.
      assert.equal(await tagDigest('app', '1.0'), older);
      const istag = await apiCall('GET', `namespaces/${PROJECT}/imagestreamtags/app:1.0`);
      const rollbackGeneration = istag.json['generation'] as number;
      assert.ok(rollbackGeneration > items[0]!.generation, `a new generation (${rollbackGeneration}) beyond ${items[0]!.generation}`);
      // The page: the row shows the older image, and the history has a new, current item for the rollback, which says so.
      await row.locator(`td[title="${older}"]`).waitFor();
      await history.locator('tbody tr').nth(2).waitFor();
      assert.deepEqual(await history.locator('tbody tr td[data-label="Image"]').evaluateAll((cells) => cells.map((c) => c.getAttribute('title'))), [older, newer.digest, older]);
      assert.deepEqual(await history.locator('td[data-label="Source"]').allTextContents(), [`rolled back to generation ${olderGeneration}`, 'pushed', 'pushed']);
      assert.equal(await row.locator('td[data-label="From"]').textContent(), `rolled back to generation ${olderGeneration}`);
      const current = history.locator('tbody tr').first().locator('td[data-label="Generation"]');
      assert.match(await current.textContent() ?? '', new RegExp(`^${rollbackGeneration}\\s*current$`));
      // Each copy button of the history says which item it copies.
      await history.getByRole('button', { name: `Copy the pull command of generation ${olderGeneration}` }).waitFor();
      await shot(page, 'stream-after-rollback');
    });

    test('a viewer and an anonymous visitor see no roll back or delete controls on stream and tag pages', async () => {
      const streamPath = `/console/projects/${PROJECT}/imagestreams/app`;
      const tagPath = `${streamPath}/-/tags/1.0`;
      for (const [who, p, signedIn] of [['the viewer', viewerPage, true], ['an anonymous visitor', anon, false]] as const) {
        await openStreamAs(p, streamPath);
        const history = await openHistory(p, 'app', '1.0');
        await history.locator('tbody tr').nth(2).waitFor();
        assert.equal(await p.getByRole('button', { name: 'Delete image stream' }).count(), 0, `${who}: no Delete image stream`);
        assert.equal(await p.getByRole('button', { name: /^Delete tag / }).count(), 0, `${who}: no Delete tag`);
        assert.equal(await p.getByRole('button', { name: /^Roll .* back to generation/ }).count(), 0, `${who}: no Roll back`);
        assert.equal(await p.getByText('Roll back to this').count(), 0, `${who}: no Roll back`);
        await shot(p, signedIn ? 'stream-as-viewer' : 'stream-as-anonymous');
        await p.goto(`${server.url}${tagPath}`);
        await p.getByTestId('author').filter({ hasText: spec.author! }).waitFor();
        assert.equal(await p.getByRole('button', { name: /Delete|Roll back/ }).count(), 0, `${who}: nothing to delete or roll back on the tag page`);
      }
      // The admin, on the same page, does get them (so the checks above can fail).
      await openStreamAs(page, streamPath);
      await page.getByRole('button', { name: 'Delete image stream' }).waitFor();
      await tagRow(page, '1.0').getByRole('button', { name: 'Delete tag 1.0' }).waitFor();
    });

    test('a registry-editor sees Roll back but no Delete controls on stream and tag pages', async () => {
      // vera, a viewer so far, is made an editor for this test only.
      const editors = `namespaces/${PROJECT}/rolebindings/registry-editor/subjects`;
      assert.equal((await apiCall('POST', editors, { kind: 'User', name: VIEWER.username })).status, 201);
      try {
        const streamPath = `/console/projects/${PROJECT}/imagestreams/app`;
        await openStreamAs(viewerPage, streamPath);
        const history = await openHistory(viewerPage, 'app', '1.0');
        const generations = await history.locator('td[data-label="Generation"]').allTextContents();
        assert.equal(generations.length, 3);
        // Every item but the current one can be rolled back to.
        for (const cell of generations.slice(1)) {
          await history.getByRole('button', { name: `Roll 1.0 back to generation ${Number.parseInt(cell, 10)}` }).waitFor();
        }
        assert.equal(await history.getByRole('button', { name: /^Roll .* back to generation/ }).count(), 2);
        assert.equal(await viewerPage.getByRole('button', { name: 'Delete image stream' }).count(), 0, 'no Delete image stream');
        assert.equal(await viewerPage.getByRole('button', { name: /^Delete tag / }).count(), 0, 'no Delete tag');
        await shot(viewerPage, 'stream-as-editor');
        await viewerPage.goto(`${server.url}${streamPath}/-/tags/1.0`);
        await viewerPage.getByTestId('author').filter({ hasText: spec.author! }).waitFor();
        assert.equal(await viewerPage.getByRole('button', { name: /Delete/ }).count(), 0, 'nothing to delete on the tag page');
      } finally {
        assert.equal((await apiCall('DELETE', `${editors}/User/${VIEWER.username}`)).status, 200);
      }
    });

    test('an anonymous visitor sees the public image, but nothing of a private project, and a direct link says why in words', async () => {
      await anon.goto(`${server.url}/console/projects/${PROJECT}/imagestreams/app/-/tags/1.0`);
      await anon.getByTestId('author').filter({ hasText: spec.author! }).waitFor();
      await anon.getByRole('button', { name: 'Sign in' }).waitFor();

      await anon.goto(`${server.url}/console/projects`);
      await anon.getByRole('link', { name: PROJECT, exact: true }).waitFor();
      assert.equal(await anon.getByRole('link', { name: PRIVATE }).count(), 0, 'the private project is not listed');
      await anon.goto(`${server.url}/console/search?q=app`);
      await anon.locator('table[aria-label="Search results"] tbody tr').first().waitFor();
      assert.equal(await anon.locator('table[aria-label="Search results"]').getByText('hidden-app').count(), 0, 'search does not find its stream');

      await anon.goto(`${server.url}/console/projects/${PRIVATE}/imagestreams/hidden-app`);
      const message = anon.getByTestId('error-message');
      await message.waitFor();
      assert.match(await message.textContent() ?? '', /Sign in to see more\.$/);
      await anon.getByRole('heading', { name: 'hidden-app', exact: true }).waitFor();
      await shot(anon, 'private-stream-as-anonymous');
    });

    test('errors are shown in words: a missing stream (404), a forbidden project (403), a page that fails to render', async () => {
      await page.goto(`${server.url}/console/projects/${PROJECT}/imagestreams/no-such-stream`);
      const message = page.getByTestId('error-message');
      await message.waitFor();
      assert.match(await message.textContent() ?? '', /image stream webshop\/no-such-stream does not exist/);
      await page.getByText('Image stream no-such-stream could not be loaded').waitFor();
      await shot(page, 'stream-not-found');

      await viewerPage.goto(`${server.url}/console/projects/${PRIVATE}`);
      await viewerPage.getByTestId('error-message').waitFor();
      assert.match(await viewerPage.getByTestId('error-message').textContent() ?? '', /Ask a registry-admin of the project for access\.$/);
      await shot(viewerPage, 'project-forbidden');

      // An answer of a shape the page does not expect makes it throw while rendering: the error boundary catches it.
      const streamApi = `${API}/namespaces/${PROJECT}/imagestreams/app`;
      const broken = (url: URL): boolean => url.pathname === streamApi;
      await page.route(broken, (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ kind: 'ImageStream', metadata: { name: 'app' }, spec: {}, status: null }) }));
      try {
        await page.goto(`${server.url}/console/projects/${PROJECT}/imagestreams/app`);
        await page.getByText('This page could not be shown').waitFor();
        assert.match(await page.getByTestId('error-message').textContent() ?? '', /^The console hit a problem showing it: /);
        await page.getByRole('button', { name: 'Sign out' }).waitFor(); // the rest of the console is still there
        await shot(page, 'render-error');
      } finally {
        await page.unroute(broken);
      }
      // Moving on to another page works again.
      await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Projects' }).click();
      await page.getByRole('link', { name: PROJECT, exact: true }).waitFor();
    });

    test('tags taken from another tag say so, and a long tag table is paged', async () => {
      for (const tag of ['2.1', '2.2']) {
        const put = await apiCall('PUT', `namespaces/${PROJECT}/imagestreamtags/multi:${tag}`, { tag: { from: { kind: 'ImageStreamTag', name: 'multi:2.0' } } });
        assert.equal(put.status, 201, JSON.stringify(put.json));
      }
      await page.goto(`${server.url}/console/projects/${PROJECT}/imagestreams/multi?limit=2`);
      const rows = page.getByTestId('tag-row');
      await rows.nth(1).waitFor();
      assert.equal(await rows.count(), 2);
      const firstPage = await rows.locator('td[data-label="Tag"]').allTextContents();
      await page.getByRole('navigation', { name: 'Tags pages' }).getByRole('button', { name: 'Go to next page' }).click();
      await page.waitForURL((url) => url.searchParams.get('tags-page') === '2');
      await rows.first().filter({ hasNotText: firstPage[0]! }).waitFor();
      const secondPage = await rows.locator('td[data-label="Tag"]').allTextContents();
      assert.deepEqual([...firstPage, ...secondPage].sort(), ['2.0', '2.1', '2.2']);
      await page.goto(`${server.url}/console/projects/${PROJECT}/imagestreams/multi`);
      await rows.nth(2).waitFor();
      assert.match(await tagRow(page, '2.1').locator('td[data-label="From"]').textContent() ?? '', /^tagged from (webshop\/)?multi:2\.0$/);
      assert.equal(await tagRow(page, '2.0').locator('td[data-label="From"]').textContent(), 'pushed');
      const history = await openHistory(page, 'multi', '2.2');
      assert.match(await history.locator('td[data-label="Source"]').first().textContent() ?? '', /^tagged from (webshop\/)?multi:2\.0$/);
    });

    test('deleting a tag asks first; Cancel keeps it, Delete tag removes it', async () => {
      await tools.skopeoCopy(single.ref, `docker://${server.hostPort}/${PROJECT}/app:doomed`, ['--preserve-digests']);
      assert.equal(await tagDigest('app', 'doomed'), single.digest);
      await page.goto(`${server.url}/console/projects/${PROJECT}/imagestreams/app`);
      const row = tagRow(page, 'doomed');
      await row.waitFor();

      await row.getByRole('button', { name: 'Delete tag doomed' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByText('Delete tag app:doomed?').waitFor();
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'detached' });
      assert.equal(await tagDigest('app', 'doomed'), single.digest, 'Cancel leaves the tag');
      assert.equal(await row.count(), 1, 'Cancel leaves the row');

      await row.getByRole('button', { name: 'Delete tag doomed' }).click();
      await dialog.getByRole('button', { name: 'Delete tag', exact: true }).click();
      await dialog.waitFor({ state: 'detached' });
      await row.waitFor({ state: 'detached' });
      assert.equal(await tagDigest('app', 'doomed'), undefined, 'the API answers 404 for the deleted tag');
      await tagRow(page, '1.0').waitFor();
      await page.reload();
      await tagRow(page, '1.0').waitFor();
      assert.equal(await tagRow(page, 'doomed').count(), 0, 'a reload does not list it either');
    });

    test('deleting a whole image stream, confirmed in the dialog', async () => {
      await tools.skopeoCopy(single.ref, `docker://${server.hostPort}/${PROJECT}/throwaway:1.0`, ['--preserve-digests']);
      assert.equal((await apiCall('GET', `namespaces/${PROJECT}/imagestreams/throwaway`)).status, 200);
      await page.goto(`${server.url}/console/projects/${PROJECT}/imagestreams/throwaway`);
      await tagRow(page, '1.0').waitFor();
      await page.getByRole('button', { name: 'Delete image stream' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByText('Delete image stream throwaway?').waitFor();
      await dialog.getByRole('button', { name: 'Delete image stream', exact: true }).click();
      await page.waitForURL((url) => url.pathname === `/console/projects/${PROJECT}`);
      assert.equal((await apiCall('GET', `namespaces/${PROJECT}/imagestreams/throwaway`)).status, 404);
      assert.equal(await tagDigest('throwaway', '1.0'), undefined);
      await page.getByRole('link', { name: 'app', exact: true }).waitFor();
      assert.equal(await page.getByRole('link', { name: 'throwaway', exact: true }).count(), 0, 'the project no longer lists it');
    });

    test('an image imported from another registry (CNCF Distribution) says so, and from where, in its history', async () => {
      const remote = await startRemoteRegistry();
      try {
        const image = testImage('console-import');
        await remote.pushImage('library/busybox', '1.36', image);
        const from = `${remote.hostPort}/library/busybox:1.36`;
        const imported = await apiCall('POST', `namespaces/${PROJECT}/imagestreams/busybox/import`, { from, insecure: true, confirm: true });
        assert.equal(imported.status, 200, JSON.stringify(imported.json));
        assert.equal(await tagDigest('busybox', '1.36'), image.digest);

        await page.goto(`${server.url}/console/projects/${PROJECT}/imagestreams/busybox`);
        const row = tagRow(page, '1.36');
        await row.locator(`td[title="${image.digest}"]`).waitFor();
        assert.equal(await row.locator('td[data-label="From"]').textContent(), `imported from ${from}`);
        const history = await openHistory(page, 'busybox', '1.36');
        assert.deepEqual(await history.locator('td[data-label="Source"]').allTextContents(), [`imported from ${from}`]);
        assert.equal(await history.locator('td[data-label="Image"]').getAttribute('title'), image.digest);
        await shot(page, 'stream-imported');
      } finally {
        await remote.stop();
      }
    });
  });

  test('sign out revokes the login at the server', async () => {
    const tokens = await page.evaluate(() => sessionStorage.getItem('berth.console.tokens'));
    const accessToken = (JSON.parse(tokens ?? '{}') as { accessToken?: string }).accessToken;
    assert.match(accessToken ?? '', /^berth_at_/);
    assert.equal((await apiCall('GET', 'users/~', undefined, `Bearer ${accessToken}`)).status, 200);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('berth.console.tokens')), null);
    assert.equal((await apiCall('GET', 'users/~', undefined, `Bearer ${accessToken}`)).status, 401);
    await admin.close();
    await viewer?.close();
  });

  test('the console talked only to /apis and /oauth (besides loading its own files)', () => {
    assert.ok(apiRequests > 50, `the pages above called /apis (${apiRequests} requests seen)`);
    assert.deepEqual(strayRequests, []);
  });
});
