// Runs after sim.spec (files run in name order, one server).
// The trust matrix in Chromium against the simulator: a Finesse pair whose primary misses the
// two IdS certificates shows two red cells with why and the seed sentence behind them; its plan
// imports them over SSH, and the stores read again turn the cells green.
import { test, expect } from '@playwright/test';
import { ADMIN, signInAndWait, hydrated, simulator, finesseCluster } from './support.mjs';

const PASSWORD = 'Trust-e2e!pass';
const F1 = 'finesse1.trust-e2e.example.com';
const F2 = 'finesse2.trust-e2e.example.com';
const IDS = ['ids1.trust-e2e.example.com', 'ids2.trust-e2e.example.com'];

test('two missing trust entries turn green after the matrix plan', async ({ page, playwright, baseURL }) => {
  const sim = await simulator(`
[[cluster]]
name = "Trust E2E Finesse"
[[cluster.node]]
fqdn = "${F1}"
kind = "finesse"
role = "primary"
password = "${PASSWORD}"
restart_ms = 30
[[cluster.node]]
fqdn = "${F2}"
kind = "finesse"
role = "secondary"
password = "${PASSWORD}"
restart_ms = 30
trusts = ["${IDS[0]}", "${IDS[1]}"]
[[cluster]]
name = "Trust E2E Identity"
[[cluster.node]]
fqdn = "${IDS[0]}"
kind = "ids"
role = "primary"
password = "${PASSWORD}"
[[cluster.node]]
fqdn = "${IDS[1]}"
kind = "ids"
role = "secondary"
password = "${PASSWORD}"
`);
  try {
    const api = await playwright.request.newContext({ baseURL, extraHTTPHeaders: { Origin: baseURL } });
    const cluster = await finesseCluster(api, sim, 'Trust E2E Finesse', [[F1, 'primary'], [F2, 'secondary']], PASSWORD);
    const identity = (await (await api.post('/api/v1/clusters', { data: { name: 'Trust E2E Identity' } })).json()).id;
    for (const [fqdn, role] of [[IDS[0], 'primary'], [IDS[1], 'secondary']]) {
      const created = await api.post('/api/v1/nodes', { data: { cluster_id: identity, kind: 'ids', role, fqdn, address: '127.0.0.1', endpoints: [] } });
      expect(created.status(), await created.text()).toBe(201);
      const id = (await created.json()).id;
      expect((await api.put(`/api/v1/nodes/${id}/credentials`, { data: { username: 'admin', password: PASSWORD, port: sim.nodes[fqdn].ssh } })).status()).toBe(204);
      expect((await (await api.post(`/api/v1/nodes/${id}/test-connection`)).json()).ok).toBe(true);
    }
    for (const node of await (await api.get('/api/v1/nodes')).json()) {
      if (node.fqdn.endsWith('.trust-e2e.example.com')) {
        expect((await api.post(`/api/v1/nodes/${node.id}/stores/read`)).status()).toBe(200);
      }
    }

    await signInAndWait(page, ADMIN);
    await page.goto('/inventory');
    await hydrated(page);
    await page.getByTestId('cluster').filter({ hasText: 'Trust E2E Finesse' }).getByRole('link', { name: 'Trust matrix' }).click();
    await page.waitForURL(`/clusters/${cluster}/trust`);
    await hydrated(page);
    await expect(page.getByTestId('trust-summary')).toHaveText('2 of 6 required certificates are not trusted (or not known to be); a plan imports what 2 of them lack.');
    const red = page.getByTestId('red-cell');
    await expect(red).toHaveCount(2);
    for (const ids of IDS) {
      await expect(red.filter({ hasText: `${F1} must trust ${ids}` })).toContainText(`missing: ${ids}`);
    }
    await expect(page.getByTestId('requirement').filter({ hasText: IDS[0] })).toContainText('Import the IdS certificate to both the primary and secondary Finesse nodes.');

    await page.getByRole('button', { name: 'Plan the imports' }).click();
    await page.waitForURL(/\/plans\/\d+$/);
    await hydrated(page);
    const plan = page.url().split('/').pop();
    const heading = page.getByRole('heading', { name: `Plan #${plan}` }).locator('[data-state]');
    await expect(heading).toHaveAttribute('data-state', 'ready', { timeout: 20_000 });
    await expect(page.locator(`[data-fqdn="${F1}"]`)).toContainText(`set cert import trust tomcat → paste ${IDS[0]}`);
    await expect(page.locator(`[data-fqdn="${F2}"]`)).toHaveCount(0);
    await page.getByTestId('apply').click();
    await expect(heading).toHaveAttribute('data-state', 'applied', { timeout: 60_000 });

    // The stores are read again after the plan: the matrix turns green.
    await page.getByRole('link', { name: 'The trust matrix' }).click();
    await page.waitForURL(`/clusters/${cluster}/trust`);
    await expect(async () => {
      await page.reload();
      await expect(page.getByTestId('trust-summary')).toHaveText('All 6 required certificates are trusted.', { timeout: 1000 });
    }).toPass({ timeout: 30_000 });
    await expect(page.locator('[data-testid="trust-cell"][data-verdict="trusted"]')).toHaveCount(6);
  } finally {
    sim.child.kill();
  }
});
