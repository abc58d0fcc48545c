// The inventory page: an admin adds a cluster and nodes; the form fills in each kind's ports.
import { test, expect } from '@playwright/test';
import { ADMIN, signInAndWait, hydrated } from './support.mjs';

test('an admin adds a cluster and a node; the kind fills in its default ports', async ({ page }) => {
  await signInAndWait(page, ADMIN);
  await page.goto('/inventory');
  await hydrated(page);
  await page.locator('#cluster-name').fill('E2E Site');
  await page.getByRole('button', { name: 'Add cluster' }).click();
  const card = page.getByTestId('cluster').filter({ hasText: 'E2E Site' });
  await expect(card).toContainText('No nodes in this cluster yet.');

  await page.locator('#node-cluster').selectOption({ label: 'E2E Site' });
  await page.locator('#node-kind').selectOption('livedata');
  await expect(page.locator('#node-ports')).toHaveValue('12005, 12008');

  // An IP address is refused with a reason under the field.
  await page.locator('#node-role').selectOption('primary');
  await page.locator('#node-fqdn').fill('10.1.2.3');
  await page.getByRole('button', { name: 'Add node' }).click();
  await expect(page.getByText('is an IP address; use the node')).toBeVisible();

  await page.locator('#node-fqdn').fill('livedata1.e2e.invalid');
  await page.getByRole('button', { name: 'Add node' }).click();
  await expect(page.getByRole('status')).toContainText('does not resolve');
  const row = card.getByTestId('node-row').filter({ hasText: 'livedata1.e2e.invalid' });
  await expect(row).toContainText('LiveData');
  await expect(row).toContainText('publisher');
  await expect(row).toContainText('12005, 12008');
});

test('a CSV file or pasted CSV is previewed with its errors, then imported', async ({ page }) => {
  await signInAndWait(page, ADMIN);
  await page.goto('/inventory');
  await hydrated(page);
  const header = 'cluster,kind,role,fqdn,address,version,tags,ports';
  const file = `${header}\nCSV Site,finesse,primary,10.9.9.9,,,,\nCSV Site,cuic,primary,cuic1.csv.invalid,,,,\n`;
  await page.locator('#csv-file').setInputFiles({ name: 'fleet.csv', mimeType: 'text/csv', buffer: Buffer.from(file) });
  await expect(page.getByTestId('csv-file-note')).toHaveText('fleet.csv: 2 row(s) loaded below. Check them, then import.');
  await expect(page.locator('#csv-text')).toHaveValue(file);
  await page.getByRole('button', { name: 'Check and import' }).click();
  const result = page.getByTestId('import-result');
  await expect(result).toContainText('1 error(s) in 2 rows; nothing was written.');
  await expect(result).toContainText('line 2, fqdn:');

  await page.locator('#csv-text').fill(`${header}\nCSV Site,finesse,primary,finesse1.csv.invalid,,,,\nCSV Site,cuic,primary,cuic1.csv.invalid,,,,`);
  await page.getByRole('button', { name: 'Check and import' }).click();
  await expect(result).toContainText('All 2 rows are valid');
  await expect(page.getByTestId('cluster').filter({ hasText: 'CSV Site' })).toHaveCount(0);
  await page.getByLabel('Preview only (write nothing)').uncheck();
  await page.getByRole('button', { name: 'Check and import' }).click();
  await expect(result).toContainText('Imported 2 nodes');
  const card = page.getByTestId('cluster').filter({ hasText: 'CSV Site' });
  await expect(card.getByTestId('node-row')).toHaveCount(2);
});

test('a node is edited from its page', async ({ page }) => {
  await signInAndWait(page, ADMIN);
  await page.goto('/inventory');
  await page.getByRole('link', { name: 'cuic1.csv.invalid' }).click();
  await expect(page.getByTestId('node-fqdn')).toHaveText('cuic1.csv.invalid');
  await hydrated(page);
  await page.getByText('Edit this node').click();
  await page.locator('#edit-fqdn').fill('10.1.1.1');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByTestId('edit-node')).toContainText('is an IP address');
  await page.locator('#edit-fqdn').fill('cuic1.csv.invalid');
  await page.locator('#edit-version').fill('12.6(2) ES03');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.locator('dd').filter({ hasText: '12.6(2) ES03' })).toBeVisible();
});
