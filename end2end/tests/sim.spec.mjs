// Runs after scans.spec (files run in name order, one server).
// The appliance layer in the browser against the simulator (gatehouse-sim, a real SSH server):
// enter a node's platform admin account, test the connection, confirm the host key pinned on
// first use, read the certificate stores, and see the node's connected users on its page and on
// the Connected agents page.
import { test, expect } from '@playwright/test';
import { ADMIN, signInAndWait, hydrated, simulator as startSimulator } from './support.mjs';

const FQDN = 'finesse1.sim-e2e.example.com';
const NODE_PASSWORD = 'Sim-e2e!pass';

/// Starts the simulator with one Finesse node; resolves with its SSH and HTTPS ports.
async function simulator() {
  const { child, nodes } = await startSimulator(`
[[cluster]]
name = "Sim E2E"

[[cluster.node]]
fqdn = "${FQDN}"
kind = "finesse"
role = "primary"
password = "${NODE_PASSWORD}"
https_ports = [0]
connected_users = { desktop = 7, fippa = 1, third_party = 2, proxy = 4 }
`);
  return { child, ...nodes[FQDN] };
}

test('a node is reached over SSH: credentials, connection test, host key, stores, connected agents', async ({ page, playwright, baseURL }) => {
  const sim = await simulator();
  try {
    const api = await playwright.request.newContext({ baseURL, extraHTTPHeaders: { Origin: baseURL } });
    expect((await api.post('/api/v1/session', { data: ADMIN })).status()).toBe(200);
    const cluster = await (await api.post('/api/v1/clusters', { data: { name: 'Sim E2E' } })).json();
    const created = await api.post('/api/v1/nodes', {
      data: { cluster_id: cluster.id, kind: 'finesse', role: 'primary', fqdn: FQDN, address: '127.0.0.1', endpoints: [{ port: sim.https }] },
    });
    expect(created.status(), await created.text()).toBe(201);
    const node = (await created.json()).id;

    await signInAndWait(page, ADMIN);
    await page.goto(`/nodes/${node}`);
    await hydrated(page);
    const access = page.getByTestId('appliance-access');
    await expect(access.getByTestId('access-account')).toContainText('No credentials stored yet');
    await expect(page.getByTestId('host-key')).toHaveAttribute('data-state', 'none');

    // Enter the account (with the simulator's SSH port), then test.
    await page.getByText('Enter or change the platform admin account…').click();
    await page.getByLabel('Password').fill(NODE_PASSWORD);
    await page.getByLabel('SSH port').fill(String(sim.ssh));
    await page.getByRole('button', { name: 'Save credentials' }).click();
    await expect(access.getByTestId('access-account')).toContainText(`Signs in as admin on SSH port ${sim.ssh}`);
    // The password is never shown again, not even in the form that sent it.
    await expect(page.getByLabel('Password')).toHaveValue('');
    await page.getByRole('button', { name: 'Test connection' }).click();
    const result = page.getByTestId('connection-test');
    await expect(result).toHaveAttribute('data-ok', 'true', { timeout: 20_000 });
    await expect(result).toContainText('prompt admin:, version 12.6.2.10000-32');

    // The key pinned on first use is the simulator's; confirming it is recorded.
    const key = page.getByTestId('host-key');
    await expect(key).toHaveAttribute('data-state', 'unconfirmed');
    await expect(key).toContainText(sim.hostKey);
    await page.getByRole('button', { name: 'Confirm this key' }).click();
    await expect(key).toHaveAttribute('data-state', 'confirmed');
    await expect(key).toContainText('by admin');

    // The stores, read from the node.
    await page.getByRole('button', { name: 'Read the stores now' }).click();
    const stores = page.getByTestId('stores');
    await expect(stores.getByTestId('stores-read-at')).toContainText('Read ');
    await expect(stores.locator('[data-unit="tomcat"]')).toContainText(FQDN);

    // The node's connected users, on its page (read again while the page is open).
    const users = page.getByTestId('node-agents');
    await expect(users.getByTestId('total-total')).toContainText('10', { timeout: 25_000 });
    await expect(users.getByTestId('total-proxy')).toContainText('4');
    await expect(users.getByTestId('node-agents-read')).toContainText('UTC');

    // Connected agents: the node's counts and the fleet's totals.
    await page.goto('/agents');
    await expect(page.getByTestId('total-total')).toContainText('10');
    await expect(page.getByTestId('total-proxy')).toContainText('4');
    await expect(page.getByTestId('node-row').filter({ hasText: FQDN })).toContainText('7');

    const audit = await (await api.get('/api/v1/audit?limit=200')).text();
    expect(audit).toContain('node.credentials.set');
    expect(audit).toContain('node.host_key.accept');
    expect(audit).not.toContain(NODE_PASSWORD);
  } finally {
    sim.child.kill();
  }
});
