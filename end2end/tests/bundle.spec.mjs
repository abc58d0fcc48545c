// The browser bundle as it travels: named by content, compressed, kept by the browser for a
// year, so that a repeat visit moves only the page itself; split, so that the sign-in page moves
// only the main module (the budgets of every page are checked in z_budgets.spec.mjs).
import { test, expect } from '@playwright/test';
import { hydrated, firstVisit } from './support.mjs';

test('the bundle is named by content, compressed, cached for a year; pages are not stored', async ({ page }) => {
  const responses = [];
  page.on('response', (r) => responses.push(r));
  const html = await page.goto('/login');
  await hydrated(page);
  expect(html.headers()['cache-control']).toBe('no-store');

  const bundle = responses.filter((r) => new URL(r.url()).pathname.startsWith('/pkg/'));
  const names = bundle.map((r) => new URL(r.url()).pathname).sort();
  const directory = names[0]?.match(/^\/pkg\/[0-9a-f]{16}\//)?.[0];
  expect(directory, names.join(', ')).toBeTruthy();
  // The main module, its JS, the loader of the split modules and the stylesheet: no page's module.
  expect(names).toEqual(['__wasm_split.______________________.js', 'gatehouse.css', 'gatehouse.js', 'gatehouse.wasm']
    .map((name) => directory + name));
  for (const response of bundle) {
    const headers = await response.allHeaders();
    expect(headers['cache-control'], response.url()).toBe('public, max-age=31536000, immutable');
    expect(headers['content-encoding'], response.url()).toBe('br');
  }

  // Again: the bundle comes from the browser's cache (nothing transferred); only the page moves.
  await page.goto('/login');
  await hydrated(page);
  const transferred = await page.evaluate(() => performance.getEntriesByType('resource')
    .filter((e) => new URL(e.name).pathname.startsWith('/pkg/'))
    .map((e) => [new URL(e.name).pathname, e.transferSize]));
  expect(transferred.length).toBeGreaterThan(0);
  for (const [name, bytes] of transferred) expect(bytes, name).toBe(0);
});

test('the sign-in page moves at most 300 KB on a first visit', async ({ browser, baseURL }) => {
  const visit = await firstVisit(browser, baseURL, '/login');
  expect(visit.bytes, visit.files.join('\n')).toBeLessThanOrEqual(300_000);
});
