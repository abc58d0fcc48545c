// Runs after sim.spec (files run in name order, one server).
// A CA-signed certificate in Chromium against the simulator: the CSR generated on the node from
// its page, signed by a CA the openssl CLI made; a certificate with other SANs refused before
// the node is touched; the right one planned (the CAs on the publisher, the certificate on the
// subscriber) and applied.
import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN, signInAndWait, hydrated, simulator, finesseCluster } from './support.mjs';

const PASSWORD = 'Signing-e2e!pass';
const F1 = 'finesse1.signing-e2e.example.com';
const F2 = 'finesse2.signing-e2e.example.com';

/// A root and an intermediate made by openssl; `sign(csr, sans)` answers what a CA sends back.
function ca() {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-signing-'));
  const run = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30', '-subj', '/CN=E2E Signing Root', '-keyout', 'root.key', '-out', 'root.pem');
  run('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=E2E Signing Issuing CA', '-keyout', 'int.key', '-out', 'int.csr');
  writeFileSync(join(dir, 'ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
  run('x509', '-req', '-in', 'int.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-CAcreateserial', '-days', '30', '-extfile', 'ca.ext', '-out', 'int.pem');
  const read = (f) => readFileSync(join(dir, f), 'utf8');
  let n = 0;
  return {
    sign(csr, sans) {
      n += 1;
      writeFileSync(join(dir, `${n}.csr`), csr);
      writeFileSync(join(dir, `${n}.ext`), `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${sans}\n`);
      run('x509', '-req', '-in', `${n}.csr`, '-CA', 'int.pem', '-CAkey', 'int.key', '-CAcreateserial', '-days', '30', '-extfile', `${n}.ext`, '-out', `${n}.pem`);
      return read(`${n}.pem`) + read('int.pem') + read('root.pem');
    },
    done: () => rmSync(dir, { recursive: true, force: true }),
  };
}

test('a CSR round trip: generated, a SAN mismatch refused before upload, the right one planned and applied', async ({ page, playwright, baseURL }) => {
  const sim = await simulator(`
[[cluster]]
name = "Signing E2E"
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
`);
  const pki = ca();
  try {
    const api = await playwright.request.newContext({ baseURL, extraHTTPHeaders: { Origin: baseURL } });
    await finesseCluster(api, sim, 'Signing E2E', [[F1, 'primary'], [F2, 'secondary']], PASSWORD);
    const node = (await (await api.get('/api/v1/nodes')).json()).find((n) => n.fqdn === F2).id;

    await signInAndWait(page, ADMIN);
    await page.goto(`/nodes/${node}`);
    await hydrated(page);
    await page.getByRole('link', { name: /^CA-signed certificate/ }).click();
    await page.waitForURL(`/nodes/${node}/certificate`);
    await hydrated(page);
    await expect(page.getByTestId('node-fqdn')).toHaveText(F2);
    const csr = page.getByTestId('csr');
    await expect(csr).toContainText('No CSR generated through the console yet.');
    await page.getByRole('button', { name: 'Generate a new CSR' }).click();
    await expect(page.getByTestId('csr-sans')).toHaveText(F2, { timeout: 20_000 });
    await expect(csr.getByRole('link', { name: `Download ${F2}-tomcat.csr` })).toBeVisible();
    const pem = (await (await api.get(`/api/v1/nodes/${node}/csr`)).json()).pem;

    // Another name than the CSR asked for: refused before anything reaches the node.
    await page.getByLabel('The signed certificate with its root and intermediates (PEM, any order)').fill(pki.sign(pem, `DNS:${F2},DNS:extra.signing-e2e.example.com`));
    await page.getByRole('button', { name: 'Check', exact: true }).click();
    const findings = page.getByTestId('upload-findings');
    await expect(findings).toHaveAttribute('data-ready', 'false');
    await expect(findings.locator('[data-id="san_matches"]')).toContainText('CSR SAN and Certificate SAN does not match');
    await expect(page.getByRole('button', { name: 'Plan the upload' })).toHaveCount(0);

    // The right one: every check passes, then the plan in the documented order.
    await page.getByLabel('The signed certificate with its root and intermediates (PEM, any order)').fill(pki.sign(pem, `DNS:${F2}`));
    await page.getByRole('button', { name: 'Check', exact: true }).click();
    await expect(findings).toHaveAttribute('data-ready', 'true');
    await page.getByRole('button', { name: 'Plan the upload' }).click();
    await page.waitForURL(/\/plans\/\d+$/);
    await hydrated(page);
    const plan = page.url().split('/').pop();
    const heading = page.getByRole('heading', { name: `Plan #${plan}` }).locator('[data-state]');
    await expect(heading).toHaveAttribute('data-state', 'ready', { timeout: 20_000 });
    await expect(page.locator(`[data-fqdn="${F1}"]`)).toContainText('set cert import trust tomcat → paste E2E Signing Root');
    await expect(page.locator(`[data-fqdn="${F2}"]`)).toContainText(`set cert import own tomcat → paste ${F2}`);
    await page.getByTestId('apply').click();
    await expect(heading).toHaveAttribute('data-state', 'applied', { timeout: 60_000 });
    await expect(page.locator(`[data-fqdn="${F2}"]`)).toContainText('Cisco Finesse Tomcat');
  } finally {
    pki.done();
    sim.child.kill();
  }
});
