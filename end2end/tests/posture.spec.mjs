// Runs after policy.spec (files run in name order, one server).
// A cluster's security posture in Chromium against the simulator: never scanned, scanned (a node
// trusting every certificate, an endpoint still accepting TLS 1.0), the printable report, the
// plan that fixes both over SSH, and a scan after it.
import { test, expect } from '@playwright/test';
import { ADMIN, signInAndWait, hydrated, simulator, finesseCluster } from './support.mjs';

const PASSWORD = 'Posture-e2e!pass';
const F1 = 'finesse1.posture-e2e.example.com';
const F2 = 'finesse2.posture-e2e.example.com';

test('the posture shows the findings, prints, and its plan fixes what the console sets', async ({ page, playwright, baseURL }) => {
  const sim = await simulator(`
[[cluster]]
name = "Posture E2E"
[[cluster.node]]
fqdn = "${F1}"
kind = "finesse"
role = "primary"
password = "${PASSWORD}"
restart_ms = 30
https_ports = [0]
properties = { trustAllCertificates = "true" }
[[cluster.node]]
fqdn = "${F2}"
kind = "finesse"
role = "secondary"
password = "${PASSWORD}"
restart_ms = 30
https_ports = [0]
tls_min = "1.0"
`);
  try {
    const api = await playwright.request.newContext({ baseURL, extraHTTPHeaders: { Origin: baseURL } });
    const cluster = await finesseCluster(api, sim, 'Posture E2E', [[F1, 'primary'], [F2, 'secondary']], PASSWORD);
    for (const node of await (await api.get('/api/v1/nodes')).json()) {
      if (!node.fqdn.endsWith('.posture-e2e.example.com')) continue;
      const https = sim.nodes[node.fqdn].https;
      const { cluster_id, kind, role, fqdn, address } = node;
      const updated = await api.put(`/api/v1/nodes/${node.id}`, { data: { cluster_id, kind, role, fqdn, address, endpoints: [{ port: https }] } });
      expect(updated.status(), await updated.text()).toBe(200);
      expect((await api.put(`/api/v1/nodes/${node.id}/ports`, { data: { desktop: https } })).status()).toBe(200);
    }

    await signInAndWait(page, ADMIN);
    await page.goto('/inventory');
    await hydrated(page);
    await page.getByTestId('cluster').filter({ hasText: 'Posture E2E' }).getByRole('link', { name: 'Security posture' }).click();
    await page.waitForURL(`/clusters/${cluster}/posture`);
    await hydrated(page);
    await expect(page.getByTestId('posture-empty')).toContainText('Not scanned yet.');

    await page.getByRole('button', { name: 'Scan now' }).click();
    await expect(page.getByTestId('posture-score')).toBeVisible({ timeout: 60_000 });
    const findings = page.getByTestId('posture-finding');
    await expect(findings.filter({ hasText: 'Finesse trusts every certificate' })).toContainText(F1);
    await expect(findings.filter({ hasText: 'Finesse trusts every certificate' })).toContainText('Plan: set trustAllCertificates to false');
    await expect(findings.filter({ hasText: 'accepts TLS 1.0 or 1.1' })).toContainText(F2);
    await expect(page.locator('[data-rule="cors_allows_all"]').first()).toContainText('Change it on the cluster\'s access policy');

    // The printable report: one document, no script.
    const printable = page.getByRole('link', { name: 'Printable report' });
    const href = await printable.getAttribute('href');
    const html = await (await api.get(href)).text();
    expect(html).toContain('Security posture: Posture E2E');
    expect(html).toContain('trust_all_certificates');
    expect(html).not.toContain('<script');

    await page.getByRole('button', { name: /Plan the fixes/ }).click();
    await page.waitForURL(/\/plans\/\d+$/);
    await hydrated(page);
    const plan = page.url().split('/').pop();
    const heading = page.getByRole('heading', { name: `Plan #${plan}` }).locator('[data-state]');
    await expect(heading).toHaveAttribute('data-state', 'ready', { timeout: 20_000 });
    await expect(page.locator(`[data-fqdn="${F1}"]`)).toContainText('utils finesse set_property webservices trustAllCertificates false');
    await expect(page.locator(`[data-fqdn="${F2}"]`)).toContainText('set tls min-version 1.2 → yes');
    await page.getByTestId('apply').click();
    await expect(heading).toHaveAttribute('data-state', 'applied', { timeout: 60_000 });

    await page.getByRole('link', { name: 'The cluster\'s security posture' }).click();
    await page.waitForURL(`/clusters/${cluster}/posture`);
    await hydrated(page);
    await page.getByRole('button', { name: 'Scan now' }).click();
    await expect(page.getByTestId('posture-trend').locator('polyline')).toHaveCount(1, { timeout: 60_000 });
    await expect(findings.filter({ hasText: 'Finesse trusts every certificate' })).toHaveCount(0);
    await expect(findings.filter({ hasText: 'accepts TLS 1.0 or 1.1' })).toHaveCount(0);
  } finally {
    sim.child.kill();
  }
});
