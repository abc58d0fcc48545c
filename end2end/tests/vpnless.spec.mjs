// Runs after sim.spec (files run in name order, one server).
// The VPN-less edge in the browser: a simulated Finesse node behind a real gatehouse-proxy
// engine that follows this console with its own token. An agent signs in to the simulated
// desktop through the engine, sees the notification WebSocket's events, and shows under
// Connected agents as "via proxy-a"; five wrong passwords ban the address, shown on the pair's
// page, where an admin lifts the ban.
import { test, expect } from '@playwright/test';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN, signInAndWait, hydrated, simulator } from './support.mjs';

const FQDN = 'finesse1.edge-e2e.example.com';
const EDGE = 'finesse1.vpnless.localhost';

/// Two consecutive free loopback ports (the simulated desktop finds its notification service
/// one port above its own).
async function twoPorts() {
  const free = (port) => new Promise((resolve) => {
    const server = createServer().once('error', () => resolve(false)).listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
  for (;;) {
    const port = 30000 + Math.floor(Math.random() * 20000);
    if (await free(port) && await free(port + 1)) return port;
  }
}

test('an agent through the VPN-less proxy: desktop, notifications, connected agents, a ban and its lift', async ({ browser, page, playwright, baseURL }) => {
  test.setTimeout(120_000);
  const upstream = await twoPorts();
  const edge = await twoPorts();
  const sim = await simulator(`
[[cluster]]
name = "Edge E2E"

[[cluster.node]]
fqdn = "${FQDN}"
kind = "finesse"
role = "primary"
password = "Edge-e2e!pass"
https_ports = [${upstream}, ${upstream + 1}]

[[cluster.node.agent]]
id = "agent7"
password = "Agent!pass7"
first_name = "Eve"
last_name = "Edge"
`);
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-edge-e2e-'));
  let engine;
  try {
    // The engine's certificate, made by the openssl CLI.
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '30',
      '-subj', `/CN=${EDGE}`, '-addext', `subjectAltName=DNS:${EDGE}`, '-keyout', join(dir, 'edge.key'), '-out', join(dir, 'edge.pem')],
      { stdio: 'ignore' });
    const api = await playwright.request.newContext({ baseURL, extraHTTPHeaders: { Origin: baseURL } });
    expect((await api.post('/api/v1/session', { data: ADMIN })).status()).toBe(200);
    const cluster = (await (await api.post('/api/v1/clusters', { data: { name: 'Edge E2E' } })).json()).id;
    const node = await api.post('/api/v1/nodes', { data: { cluster_id: cluster, kind: 'finesse', role: 'primary', fqdn: FQDN,
      address: '127.0.0.1', endpoints: [{ port: upstream }, { port: upstream + 1 }] } });
    expect(node.status(), await node.text()).toBe(201);
    const scan = await (await api.post('/api/v1/scans', { data: { node_ids: [(await node.json()).id] } })).json();
    await expect.poll(async () => (await (await api.get(`/api/v1/scans/${scan.id}`)).json()).state, { timeout: 30_000 }).toBe('done');
    const map = (await (await api.post('/api/v1/proxymaps', { data: { name: 'Edge E2E map', cluster_id: cluster } })).json()).id;
    const text = `${FQDN}:${upstream}=${EDGE}:${edge}\n${FQDN}:${upstream + 1}=${EDGE}:${edge + 1}\n`;
    expect((await api.post(`/api/v1/proxymaps/${map}/versions`, { data: { text, base_version: 0, comment: 'e2e' } })).status()).toBe(201);
    expect((await api.post(`/api/v1/proxymaps/${map}/publish`, { data: { version: 1 } })).status()).toBe(200);
    const certificates = [{ certificate: join(dir, 'edge.pem'), key: join(dir, 'edge.key') }];
    const settings = {
      schema: 1, version: 0, routes: [],
      listeners: [{ address: `127.0.0.1:${edge}`, certificates }, { address: `127.0.0.1:${edge + 1}`, certificates }],
      auth: { static_prefixes: ['/desktop/assets/', '/desktop/container/'] },
    };
    // The admin creates the pair on the proxies page: its map, its sides, its settings.
    await signInAndWait(page, ADMIN);
    await page.goto('/proxies');
    await hydrated(page);
    await page.getByText('Create a pair').click();
    await page.getByLabel('Name', { exact: true }).fill('Edge E2E');
    await page.getByLabel('Proxy map it routes by').selectOption({ label: 'Edge E2E map' });
    await page.getByLabel('Settings (JSON)').fill(JSON.stringify(settings, null, 2));
    await page.getByLabel(/What differs for side A and side B/).fill('');
    await page.getByRole('button', { name: 'Create the pair' }).click();
    await expect(page.getByTestId('proxy-instance')).toHaveCount(2);
    const pair = (await (await api.get('/api/v1/proxy-pairs')).json()).find((p) => p.name === 'Edge E2E');

    // The admin issues side A's token on the proxies page and starts the engine with it.
    await page.getByTestId('proxy-instance').first().getByRole('button', { name: 'Issue token' }).click();
    const token = (await page.getByTestId('new-proxy-token').textContent()).trim();
    expect(token).toMatch(/^gp_/);
    writeFileSync(join(dir, 'token'), token);
    engine = spawn(process.env.PROXY_BIN ?? 'target/debug/gatehouse-proxy',
      ['run', '--console', baseURL, '--token-file', join(dir, 'token'), '--instance', 'proxy-a'], { stdio: 'ignore' });
    // The configuration as a plan: what each instance would serve, applied once confirmed.
    await page.goto(`/proxies/${pair.id}`);
    await hydrated(page);
    await page.getByRole('button', { name: 'Plan the configuration' }).click();
    const plan = page.getByTestId('proxy-plan').first();
    await expect(plan.getByTestId('proxy-plan-state')).toContainText('ready');
    await expect(plan).toContainText('A first configuration');
    await plan.getByRole('button', { name: /^Apply plan \d+ to both instances$/ }).click();
    await expect(page.getByTestId('proxy-config-state').first()).toContainText('version 1 in force', { timeout: 15_000 });
    await page.goto('/proxies');
    await hydrated(page);
    const a = page.getByTestId('proxy-instance').first();
    await expect(a).toContainText('version 1 in force', { timeout: 15_000 });

    // The agent's browser: the simulated desktop through the engine.
    const agent = await browser.newContext({ ignoreHTTPSErrors: true });
    const desk = await agent.newPage();
    await desk.goto(`https://${EDGE}:${edge}/desktop/container/`);
    await desk.getByLabel('Agent ID').fill('agent7');
    await desk.getByLabel('Password').fill('Agent!pass7');
    await desk.getByRole('button', { name: 'Sign in' }).click();
    await expect(desk.locator('#socket')).toHaveText('connected');
    await desk.getByRole('button', { name: 'Ready', exact: true }).click();
    await expect(desk.locator('#state')).toHaveText('READY');
    await expect(desk.locator('#events')).toContainText('<state>READY</state>');

    // The console sees who is connected through which instance.
    await page.goto('/agents');
    await hydrated(page);
    await expect(page.getByTestId('proxied-agent').filter({ hasText: 'agent7' })).toContainText('via proxy-a (Edge E2E)', { timeout: 15_000 });

    // Five wrong passwords from the agent's address: banned, and shown.
    const wrong = await browser.newContext({ ignoreHTTPSErrors: true });
    const guess = await wrong.newPage();
    await guess.goto(`https://${EDGE}:${edge}/desktop/container/`);
    for (let i = 0; i < 6; i++) {
      await guess.getByLabel('Agent ID').fill(`guess${i}`);
      await guess.getByLabel('Password').fill('wrong');
      await guess.getByRole('button', { name: 'Sign in' }).click();
      await expect(guess.locator('#error')).not.toHaveText('');
      if (i < 5) await guess.evaluate(() => { document.getElementById('error').textContent = ''; });
    }
    await expect(guess.locator('#error')).toContainText('Blocked for exceeding the retry limit');
    await page.goto(`/proxies/${pair.id}`);
    await hydrated(page);
    const ban = page.getByTestId('proxy-ban').filter({ hasText: '127.0.0.1' });
    await expect(ban).toContainText('this instance (failed sign-ins)', { timeout: 15_000 });
    await ban.getByRole('button', { name: 'Lift' }).click();
    await expect(page.getByTestId('proxy-ban').filter({ hasText: '127.0.0.1' })).toHaveCount(0, { timeout: 15_000 });

    // A settings change is saved, then planned: the plan names exactly what changes.
    const edited = { ...settings, limits: { body_bytes: 1000000 } };
    await page.getByLabel('Settings (JSON)').fill(JSON.stringify(edited, null, 2));
    await page.getByRole('button', { name: 'Save the settings' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Saved' })).toBeVisible();
    await page.getByRole('button', { name: 'Plan the configuration' }).click();
    const next = page.getByTestId('proxy-plan').first();
    await expect(next.getByTestId('proxy-plan-state')).toContainText('ready');
    await expect(next.getByTestId('proxy-plan-change').first()).toContainText('limits.body_bytes: 15728640 → 1000000');
    await agent.close();
    await wrong.close();
    await api.dispose();
  } finally {
    engine?.kill();
    sim.child.kill();
  }
});
