// Runs after policy.spec (files run in name order, one server).
// The proxy-map editor in the browser: an invalid line shows its error in place before any save;
// fixed, the map is saved, published and served; the next version is compared with it.
import { test, expect } from '@playwright/test';
import { ADMIN, signInAndWait, hydrated } from './support.mjs';

test('a map is checked as it is typed, saved, published, served and compared', async ({ page, playwright, baseURL }) => {
  await signInAndWait(page, ADMIN);
  await page.goto('/proxy-map');
  await hydrated(page);
  await page.fill('#map-name', 'E2E map');
  await page.click('button:has-text("Create map")');
  await page.waitForURL(/\/proxy-map\/\d+$/);
  await hydrated(page);
  await expect(page.getByTestId('map-published')).toContainText('nothing saved yet');

  const text = page.locator('#map-text');
  await text.click();
  await page.keyboard.type('finesse1.lan.example.com:8445=finesse1.xyz.com\nfinesse2.lan.example.com:84450=finesse2.xyz.com');
  // The error is shown in place (a band on line 2) and listed, before anything is saved.
  const problem = page.locator('[data-code="invalid-port"]');
  await expect(problem).toContainText('line 2, column 26');
  await expect(page.locator('svg rect[data-line="2"]').first()).toBeVisible();
  await expect(page.getByTestId('map-summary')).toHaveText('1 mapping · 1 error · 0 warnings');
  await expect(page.locator('button:has-text("Fix the errors to save")')).toBeDisabled();
  await problem.locator('button').click();
  expect(await text.evaluate((a) => a.selectionStart)).toBe(72);

  // Fixed: the table view agrees, the derived outputs follow, it saves as version 1.
  for (let i = 0; i < 5; i++) await page.keyboard.press('Delete');
  await page.keyboard.type('8445');
  await expect(page.getByTestId('map-summary')).toHaveText('2 mappings · 0 errors · 0 warnings');
  await page.click('button:has-text("Table")');
  await expect(page.getByTestId('map-table').locator('tbody tr')).toHaveCount(2);
  await page.click('button:has-text("Text")');
  await expect(page.getByTestId('map-derived')).toContainText('https://finesse2.xyz.com:443/desktop/sso/authcode');
  await page.fill('#map-comment', 'both Finesse nodes');
  await page.click('button:has-text("Save as version 1")');
  await expect(page.getByTestId('map-published')).toContainText('Latest: version 1. Published: nothing published.');

  // Published, the file is served without a session.
  await page.click('button[aria-label="Publish version 1"]');
  await expect(page.getByTestId('map-published')).toContainText('Published: version 1 by admin');
  const anonymous = await playwright.request.newContext({ baseURL });
  const served = await anonymous.get('/maps/e2e-map/proxymap.txt');
  expect(served.status()).toBe(200);
  expect(await served.text()).toBe('finesse1.lan.example.com:8445=finesse1.xyz.com:443\nfinesse2.lan.example.com:8445=finesse2.xyz.com:443\n');

  // A second version, compared with the first.
  await hydrated(page);
  await text.click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type('\ncuic1.lan.example.com:8444=cuic1.xyz.com:8444');
  await expect(page.getByTestId('map-summary')).toHaveText('3 mappings · 0 errors · 0 warnings');
  await page.click('button:has-text("Save as version 2")');
  await expect(page.getByTestId('map-published')).toContainText('Latest: version 2.');
  await expect(page.getByTestId('map-diff')).toContainText('+ cuic1.lan.example.com:8444=cuic1.xyz.com:8444');
});
