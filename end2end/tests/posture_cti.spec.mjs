// Runs after foundation.spec (files run in name order, one server: it expects no cluster yet).
// A BroadWorks XSP's CTI interface in Chromium against the simulator (seed 003): a default
// install's checklist and probe (TLS 1.2 refused), the Webex CA chain (made by the openssl CLI)
// pasted into the plan, the plan applied over SSH, and the checklist and probe afterwards.
import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN, signInAndWait, hydrated, simulator } from './support.mjs';

const PASSWORD = 'Cti-e2e!pass';
const XSP = 'xsp1.cti-e2e.example.com';

/// A root and an issuing CA, as Partner Hub's CombinedCertChain file holds them (root first).
function webexChain() {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cti-e2e-'));
  const at = (name) => join(dir, name);
  const openssl = (...args) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  writeFileSync(at('ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('root.key'), '-out', at('root.pem'),
    '-days', '30', '-subj', '/CN=E2E Webex Root', '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('issuing.key'), '-out', at('issuing.csr'),
    '-subj', '/CN=E2E Webex Issuing CA');
  openssl('x509', '-req', '-in', at('issuing.csr'), '-CA', at('root.pem'), '-CAkey', at('root.key'),
    '-CAcreateserial', '-days', '30', '-extfile', at('ca.ext'), '-out', at('issuing.pem'));
  return readFileSync(at('root.pem'), 'utf8') + readFileSync(at('issuing.pem'), 'utf8');
}

test('an XSP is brought to the CTI checklist from its page, and the probe sees mTLS and TLS 1.2', async ({ page, playwright, baseURL }) => {
  const sim = await simulator(`
[[cluster]]
name = "CTI E2E"
[[cluster.node]]
fqdn = "${XSP}"
kind = "broadworks"
role = "none"
password = "${PASSWORD}"
cti_ports = [0]
`);
  try {
    const api = await playwright.request.newContext({ baseURL, extraHTTPHeaders: { Origin: baseURL } });
    expect((await api.post('/api/v1/session', { data: ADMIN })).status()).toBe(200);
    const cluster = (await (await api.post('/api/v1/clusters', { data: { name: 'CTI E2E' } })).json()).id;
    const created = await api.post('/api/v1/nodes', { data: { cluster_id: cluster, kind: 'broadworks', role: 'none', fqdn: XSP, address: '127.0.0.1', endpoints: [] } });
    expect(created.status(), await created.text()).toBe(201);
    const id = (await created.json()).id;
    expect((await api.put(`/api/v1/nodes/${id}/credentials`, { data: { username: 'admin', password: PASSWORD, port: sim.nodes[XSP].ssh } })).status()).toBe(204);
    const tested = await (await api.post(`/api/v1/nodes/${id}/test-connection`)).json();
    expect(tested.ok, JSON.stringify(tested)).toBe(true);
    expect((await api.put(`/api/v1/nodes/${id}/ports`, { data: { cti: sim.nodes[XSP].cti } })).status()).toBe(200);

    await signInAndWait(page, ADMIN);
    await page.goto(`/nodes/${id}`);
    await hydrated(page);
    await page.getByTestId('cti-link').click();
    await page.waitForURL(`/nodes/${id}/cti`);
    await hydrated(page);
    await expect(page.getByTestId('cti-summary')).toHaveText('4 of 5 steps missing.');
    const step = (key) => page.locator(`[data-testid="cti-step"][data-key="${key}"]`);
    await expect(step('tls12')).toHaveAttribute('data-done', 'false');
    await expect(step('tls12')).toContainText('protocols: TLSv1.1');
    await expect(step('tls12')).toContainText('Protocols> add 127.0.0.1 TLSv1.2');
    await expect(step('recommended_cipher')).toHaveAttribute('data-done', 'true');
    await expect(page.locator('[data-testid="cti-finding"][data-rule="tls12_refused"]')).toContainText('refused TLS 1.2');

    // A chain without its root is refused with the reason; the whole file is taken.
    const chain = webexChain();
    const issuingOnly = chain.slice(chain.indexOf('-----BEGIN CERTIFICATE-----', 10));
    await page.getByLabel('Webex CA chain (optional)').fill(issuingOnly);
    await page.getByTestId('cti-plan').click();
    await expect(page.getByText('it holds no root certificate')).toBeVisible();
    await page.getByLabel('Webex CA chain (optional)').fill(chain);
    await page.getByTestId('cti-plan').click();
    await page.waitForURL(/\/plans\/\d+$/);
    await hydrated(page);
    const plan = page.url().split('/').pop();
    const heading = page.getByRole('heading', { name: `Plan #${plan}` }).locator('[data-state]');
    await expect(heading).toHaveAttribute('data-state', 'ready', { timeout: 20_000 });
    const steps = page.locator(`[data-fqdn="${XSP}"]`);
    await expect(steps).toContainText('updateTrust e2e-webex-root-');
    await expect(steps).toContainText('updateTrust e2e-webex-issuing-ca-');
    await expect(steps).toContainText('set 127.0.0.1 clientAuthReq true');
    await expect(steps).toContainText('set allowClientApp true');
    await page.getByTestId('apply').click();
    await expect(heading).toHaveAttribute('data-state', 'applied', { timeout: 60_000 });

    await page.getByRole('link', { name: 'The node\'s CTI checklist' }).click();
    await page.waitForURL(`/nodes/${id}/cti`);
    await hydrated(page);
    await expect(page.getByTestId('cti-summary')).toHaveText('Every step of the checklist is done.');
    await expect(page.getByTestId('cti-probe')).toContainText('TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256');
    await expect(page.getByTestId('cti-probe')).toContainText('ECDHE-RSA-AES128-GCM-SHA256');
    await expect(page.getByTestId('cti-probe-clean')).toBeVisible();
  } finally {
    sim.child.kill();
  }
});
