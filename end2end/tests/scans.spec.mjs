// Runs after foundation.spec (files run in name order, one server): the dashboard starts empty there.
// The certificate dashboards end to end: a node on a local TLS server whose certificate expires
// in 10 days and whose CN is not in its SAN; "Scan now" in the browser; the dashboard, the node
// page and monitoring all report it; muting it in the page changes what monitoring polls.
import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { ADMIN, signInAndWait, hydrated } from './support.mjs';

const FQDN = 'finesse1.certs-e2e.example.com';

/// A TLS server on loopback serving a self-signed certificate (openssl CLI) valid for 10 days.
async function expiringServer() {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-e2e-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '10',
    '-subj', '/CN=Finesse Primary', '-addext', `subjectAltName=DNS:${FQDN}`,
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  const server = tls.createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
    (socket) => socket.end());
  server.on('tlsClientError', () => {});
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

async function adminApi(playwright, baseURL) {
  const api = await playwright.request.newContext({ baseURL, extraHTTPHeaders: { Origin: baseURL } });
  expect((await api.post('/api/v1/session', { data: ADMIN })).status()).toBe(200);
  return api;
}

test('scan now finds an expiring certificate whose CN is not in its SAN; muting it shows in the alerts', async ({ page, playwright, baseURL }) => {
  const server = await expiringServer();
  const port = server.address().port;
  const api = await adminApi(playwright, baseURL);
  const cluster = await (await api.post('/api/v1/clusters', { data: { name: 'Certificates E2E' } })).json();
  const created = await api.post('/api/v1/nodes', {
    data: { cluster_id: cluster.id, kind: 'finesse', role: 'primary', fqdn: FQDN, address: '127.0.0.1', endpoints: [{ port }] },
  });
  expect(created.status(), await created.text()).toBe(201);
  const node = (await created.json()).id;

  // Scan the node from its page: progress, then the per-endpoint result.
  await signInAndWait(page, ADMIN);
  await page.goto(`/nodes/${node}`);
  await hydrated(page);
  await expect(page.getByText('Not scanned yet.')).toBeVisible();
  await page.getByRole('button', { name: 'Scan now' }).click();
  const progress = page.getByTestId('scan-progress');
  await expect(progress).toHaveAttribute('data-state', 'done', { timeout: 20_000 });
  await expect(progress).toContainText('1 endpoints probed, 0 failed');
  await expect(page.getByTestId('scan-result')).toContainText(`${FQDN}:${port}`);

  // The page reloads what it shows: the leaf, critical, with both findings and what to do.
  const leaf = page.getByTestId('chain-certificate').first();
  await expect(leaf.locator('[data-state]')).toHaveAttribute('data-state', 'critical');
  const cnFinding = leaf.locator('[data-lint="cn_not_in_san"]');
  await expect(cnFinding).toContainText('NET::ERR_CERT_COMMON_NAME_INVALID');
  await expect(cnFinding).toContainText('Fix: Reissue the certificate with the CN repeated in the subjectAltName');
  await expect(leaf.locator('[data-lint="expiring"]')).toBeVisible();

  // The dashboard counts it and lists the finding.
  await page.goto('/');
  await expect(page.getByTestId('count-critical')).toContainText('1');
  await expect(page.getByRole('link', { name: 'cn_not_in_san' })).toBeVisible();
  await expect(page.getByTestId('soonest-row').first()).toContainText('Finesse Primary');
  await expect(page.getByTestId('timeline-summary')).toContainText('within 30 days: 1');

  // Monitoring sees it with a monitor token.
  const token = await (await api.post('/api/v1/tokens', { data: { name: 'prometheus-e2e', role: 'monitor' } })).json();
  const monitor = await playwright.request.newContext({ baseURL, extraHTTPHeaders: { Authorization: `Bearer ${token.token}` } });
  const metrics = await (await monitor.get('/metrics')).text();
  const stateLine = metrics.split('\n').find((l) => l.startsWith('gatehouse_cert_alert_state{') && l.includes(FQDN));
  expect(stateLine, metrics).toMatch(/ 2(\.0)?$/);
  let alerts = await (await monitor.get('/api/v1/alerts')).json();
  let alert = alerts.find((a) => a.fqdn === FQDN);
  expect(alert.state).toBe('critical');
  expect(alert.muted).toBe(false);

  // Mute it from the node page; the alerts API says who, why and until when.
  await page.goto(`/nodes/${node}`);
  await hydrated(page);
  await page.getByText('Acknowledge or mute this alert…').click();
  await page.getByLabel('Action').selectOption('mute');
  await page.getByLabel('Owner').fill('PKI team');
  await page.getByLabel('Note').fill('renewal ordered, CHG0042');
  await page.getByLabel('Until').fill('2099-12-31');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByTestId('mute-info')).toContainText('owner PKI team');
  alerts = await (await monitor.get('/api/v1/alerts')).json();
  alert = alerts.find((a) => a.fqdn === FQDN);
  expect(alert.muted).toBe(true);
  expect(alert.mute.owner).toBe('PKI team');
  expect(alert.mute.until).toMatch(/^2099-12-31/);

  await monitor.dispose();
  await api.dispose();
  server.close();
});
