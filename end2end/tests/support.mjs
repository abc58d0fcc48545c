// Locators, actions and checks shared by the end-to-end tests.
import { expect } from '@playwright/test';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ADMIN = { username: 'admin', password: 'correct horse battery' };

// Locators
export const loc = {
  username: (page) => page.locator('#username'),
  password: (page) => page.locator('#password'),
  submit: (page) => page.getByRole('button', { name: 'Sign in' }),
  alert: (page) => page.getByRole('alert'),
  whoami: (page) => page.getByTestId('whoami'),
  auditRows: (page) => page.getByTestId('audit-row'),
};

// Actions
export async function signIn(page, { username, password }) {
  await page.goto('/login');
  await loc.username(page).fill(username);
  await loc.password(page).fill(password);
  await loc.submit(page).click();
}

export async function signInAndWait(page, user) {
  await signIn(page, user);
  await expect(loc.whoami(page)).toHaveText(user.username);
}

/// Creates a user through the REST API as the admin (a separate cookie jar).
export async function createUser(playwright, baseURL, { username, password, role }) {
  const api = await playwright.request.newContext({ baseURL, extraHTTPHeaders: { Origin: baseURL } });
  const login = await api.post('/api/v1/session', { data: ADMIN });
  expect(login.status()).toBe(200);
  const created = await api.post('/api/v1/users', { data: { username, password, role } });
  expect(created.status(), await created.text()).toBe(201);
  await api.dispose();
}

/// Waits until the page's wasm has hydrated it (the app marks `<html data-hydrated>` then).
export async function hydrated(page) {
  await page.waitForSelector('html[data-hydrated]', { state: 'attached' });
  await page.waitForLoadState('networkidle');
}

/// Every kind of page of the console, with the data the earlier specs left: the list pages, a
/// node of each kind (they show different sections) and a BroadWorks node's CTI page, each proxy
/// map and pair, one certificate, a plan, and the policy, trust and posture pages of the first
/// three clusters and the newest (not every node and cluster: pages of one kind share their
/// code, and the walks over them were most of the end-to-end time).
export async function consolePaths(page) {
  const get = async (path) => (await page.request.get(path)).json();
  const [nodes, certificates, clusters, maps, pairs] = await Promise.all(
    ['/api/v1/nodes', '/api/v1/certificates', '/api/v1/clusters', '/api/v1/proxymaps', '/api/v1/proxy-pairs'].map(get));
  expect(nodes.length, 'the earlier specs left nodes').toBeGreaterThan(0);
  expect(certificates.length, 'and scanned certificates').toBeGreaterThan(0);
  const kinds = [...new Map(nodes.map((n) => [n.kind, n])).values()];
  const someClusters = [...new Set([...clusters.slice(0, 3), clusters[clusters.length - 1]])];
  return ['/', '/inventory', '/certificates', '/tools/chain', '/proxy-map', '/access-policy', '/proxies', '/agents', '/audit', '/settings',
    '/settings/users', '/settings/tokens', '/settings/account', '/settings/webhooks',
    ...kinds.map((n) => `/nodes/${n.id}`), `/nodes/${nodes[0].id}/certificate`, ...maps.map((m) => `/proxy-map/${m.id}`),
    `/certificates/${certificates[0].fingerprint_sha256}`,
    ...someClusters.flatMap((c) => [`/access-policy/${c.id}`, `/clusters/${c.id}/trust`, `/clusters/${c.id}/posture`]),
    ...kinds.filter((n) => n.kind === 'broadworks').map((n) => `/nodes/${n.id}/cti`), '/plans/1', ...pairs.map((p) => `/proxies/${p.id}`)];
}

/// What a first visit to `path` moves, in a fresh browser context (an empty cache) with
/// `storageState` (a session, or none): `{ bytes, files }`, each response's headers and body as
/// it crossed the wire (compressed), until the page has hydrated and the network is idle.
export async function firstVisit(browser, baseURL, path, storageState) {
  const context = await browser.newContext({ baseURL, storageState });
  const page = await context.newPage();
  const finished = [];
  page.on('requestfinished', (request) => finished.push(request));
  await page.goto(path);
  await hydrated(page);
  const files = [];
  let bytes = 0;
  for (const request of finished) {
    const sizes = await request.sizes();
    const moved = sizes.responseHeadersSize + sizes.responseBodySize;
    bytes += moved;
    files.push(`${new URL(request.url()).pathname} ${moved}`);
  }
  await context.close();
  return { bytes, files };
}

/// Starts the simulator (gatehouse-sim, real SSH and HTTPS) with `fleetToml`; resolves once its
/// nodes run with `{ child, nodes: { fqdn: { ssh, hostKey, https } } }` (kill `child` after).
export async function simulator(fleetToml) {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-sim-e2e-'));
  const fleet = join(dir, 'fleet.toml');
  writeFileSync(fleet, fleetToml);
  const bin = process.env.SIM_BIN ?? 'target/debug/gatehouse-sim';
  const child = spawn(bin, ['--fleet', fleet, '--state', join(dir, 'state.json')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const nodes = await new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`gatehouse-sim exited with ${code}: ${log}`)));
    child.stderr.on('data', (chunk) => {
      log += chunk;
      if (!log.includes('nodes running')) return;
      const found = {};
      for (const m of log.matchAll(/(\S+): ssh 127\.0\.0\.1:(\d+) \(host key (\S+)\), https (?:127\.0\.0\.1:(\d+)(?: 127\.0\.0\.1:\d+)*|-)(?:, cti 127\.0\.0\.1:(\d+))?/g)) {
        found[m[1]] = { ssh: Number(m[2]), hostKey: m[3], https: m[4] ? Number(m[4]) : null, cti: m[5] ? Number(m[5]) : null };
      }
      resolve(found);
    });
  });
  return { child, nodes };
}

/// Signs `api` (a request context) in as the admin and puts a simulated cluster in the
/// inventory: the cluster `name`, then each `[fqdn, role]` as a Finesse node at 127.0.0.1 with
/// SSH credentials for the simulator's port. Resolves to the cluster's id.
export async function finesseCluster(api, sim, name, nodes, password) {
  expect((await api.post('/api/v1/session', { data: ADMIN })).status()).toBe(200);
  const cluster = (await (await api.post('/api/v1/clusters', { data: { name } })).json()).id;
  for (const [fqdn, role] of nodes) {
    const created = await api.post('/api/v1/nodes', { data: { cluster_id: cluster, kind: 'finesse', role, fqdn, address: '127.0.0.1', endpoints: [] } });
    expect(created.status(), await created.text()).toBe(201);
    const id = (await created.json()).id;
    const set = await api.put(`/api/v1/nodes/${id}/credentials`, { data: { username: 'admin', password, port: sim.nodes[fqdn].ssh } });
    expect(set.status()).toBe(204);
    // An admin's first connection pins the host key: reads (pages, propagation) pin nothing.
    const tested = await (await api.post(`/api/v1/nodes/${id}/test-connection`)).json();
    expect(tested.ok, JSON.stringify(tested)).toBe(true);
  }
  return cluster;
}
