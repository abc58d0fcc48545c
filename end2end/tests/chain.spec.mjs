// The chain tool in Chromium: a bundle made by the openssl CLI, picked as a file, split into
// its certificates in upload order with a download each; a binary file told apart.
import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN, signInAndWait, hydrated } from './support.mjs';

/// A root, an intermediate and a leaf made by openssl, as one bundle (leaf first) and the leaf
/// alone in DER.
function bundle() {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-chain-'));
  const run = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30', '-subj', '/CN=E2E Root CA', '-keyout', 'root.key', '-out', 'root.pem');
  run('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=E2E Issuing CA', '-keyout', 'int.key', '-out', 'int.csr');
  writeFileSync(join(dir, 'ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=keyCertSign,cRLSign\n');
  run('x509', '-req', '-in', 'int.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-CAcreateserial', '-days', '30', '-extfile', 'ca.ext', '-out', 'int.pem');
  run('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=finesse1.example.com', '-keyout', 'leaf.key', '-out', 'leaf.csr');
  writeFileSync(join(dir, 'leaf.ext'), 'basicConstraints=CA:FALSE\nsubjectAltName=DNS:finesse1.example.com\n');
  run('x509', '-req', '-in', 'leaf.csr', '-CA', 'int.pem', '-CAkey', 'int.key', '-CAcreateserial', '-days', '30', '-extfile', 'leaf.ext', '-out', 'leaf.pem');
  run('x509', '-in', 'leaf.pem', '-outform', 'DER', '-out', 'leaf.der');
  const read = (f) => readFileSync(join(dir, f));
  const text = Buffer.concat([read('leaf.pem'), Buffer.from('\nBag Attributes: pasted from a mail\n'), read('int.pem'), read('root.pem')]);
  const out = { text, der: read('leaf.der'), root: read('root.pem').toString() };
  rmSync(dir, { recursive: true, force: true });
  return out;
}

test('a bundle picked as a file comes out root first, each certificate to download', async ({ page }) => {
  const made = bundle();
  await signInAndWait(page, ADMIN);
  await page.goto('/certificates');
  await page.getByRole('link', { name: 'Chain tool' }).click();
  await expect(page).toHaveURL(/\/tools\/chain$/);
  await hydrated(page);
  await page.locator('#chain-file').setInputFiles({ name: 'CombinedCertChain.txt', mimeType: 'text/plain', buffer: made.text });
  await expect(page.getByTestId('chain-file-note')).toContainText('CombinedCertChain.txt loaded');
  await page.getByRole('button', { name: 'Split' }).click();
  await expect(page.getByTestId('chain-summary')).toHaveText('3 certificates, each one\'s issuer in the file up to a root.');
  const pieces = page.getByTestId('chain-piece');
  await expect(pieces).toHaveCount(3);
  await expect(pieces.nth(0)).toContainText('root');
  await expect(pieces.nth(0)).toContainText('E2E Root CA');
  await expect(pieces.nth(1)).toContainText('intermediate');
  await expect(pieces.nth(2)).toContainText('leaf');
  await expect(pieces.nth(2)).toContainText('→ tomcat');
  await expect(pieces.nth(2)).toContainText('signed by #2');
  // The root's download is the root's PEM alone.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    pieces.nth(0).getByRole('link', { name: /Download 01-root-e2e-root-ca\.pem/ }).click(),
  ]);
  expect(download.suggestedFilename()).toBe('01-root-e2e-root-ca.pem');
  const saved = readFileSync(await download.path()).toString();
  expect(saved.replace(/\s+/g, '')).toBe(made.root.replace(/\s+/g, ''));
});

test('a binary file is named for what it is, with the conversion', async ({ page }) => {
  const made = bundle();
  await signInAndWait(page, ADMIN);
  await page.goto('/tools/chain');
  await hydrated(page);
  await page.locator('#chain-file').setInputFiles({ name: 'leaf.der', mimeType: 'application/octet-stream', buffer: made.der });
  await expect(page.getByTestId('chain-file-note')).toContainText('openssl x509 -inform der');
  // Pasting something that is not a certificate is refused with the reason.
  await page.locator('#chain-text').fill('not a certificate');
  await page.getByRole('button', { name: 'Split' }).click();
  await expect(page.getByText('No certificate found')).toBeVisible();
});
