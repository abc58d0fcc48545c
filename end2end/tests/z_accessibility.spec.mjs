// Runs last (files run in name order, one server), when the earlier specs have left nodes,
// scanned certificates, store reads and connected-agent samples behind, so that every page is
// checked with data in it and not only as an empty state.
// axe-core (Deque's rules, WCAG 2.1 A and AA) in Chromium: no serious or critical violation on
// any kind of page (`consolePaths`).
import { test, expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { ADMIN, signInAndWait, hydrated, consolePaths } from './support.mjs';

/// The serious and critical violations on the page as it is now, one line each.
async function violations(page) {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact}): ${n.target.join(' ')}: ${n.any[0]?.message ?? v.help}: ${n.html.slice(0, 120)}`));
}

/// Every page's violations, by path; empty when all pass.
async function check(page, paths) {
  const found = {};
  for (const path of paths) {
    await page.goto(path);
    await hydrated(page);
    const list = await violations(page);
    if (list.length) found[path] = list;
  }
  expect(found).toEqual({});
}

test('the sign-in page has no serious accessibility violations', async ({ page }) => {
  await check(page, ['/login']);
});

test('every kind of page of the console has no serious accessibility violations', async ({ page }) => {
  test.setTimeout(300_000);
  await signInAndWait(page, ADMIN);
  const paths = await consolePaths(page);
  await check(page, paths);
});

test('narrow windows too (a phone held upright)', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signInAndWait(page, ADMIN);
  const maps = await (await page.request.get('/api/v1/proxymaps')).json();
  await check(page, ['/', '/audit', '/agents', '/access-policy', '/plans/1', `/proxy-map/${maps[maps.length - 1].id}`]);
});
