// Runs after the other specs (files run in name order, one server), with their data in the
// pages. The first-visit budget: every kind of page of the console, opened with an empty cache, moves at
// most 500 KB (HTML, CSS, JS, the main wasm module and the modules of its page group, as
// compressed on the wire, headers included). A page that grows the bundle past it fails here;
// the cure is a group with room in app/src/pages/mod.rs (BUDGET_LOG=1 prints every page's figure;
// a new group also makes the modules every group shares heavier).
import { test, expect } from '@playwright/test';
import { ADMIN, signInAndWait, consolePaths, firstVisit } from './support.mjs';

test('every kind of page of the console moves at most 500 KB on a first visit', async ({ browser, page, baseURL }) => {
  test.setTimeout(300_000);
  await signInAndWait(page, ADMIN);
  const session = await page.context().storageState();
  const over = {};
  for (const path of await consolePaths(page)) {
    const visit = await firstVisit(browser, baseURL, path, session);
    // A visit that lost its session would measure the sign-in page instead.
    expect(visit.files.some((f) => f.startsWith('/login')), `${path} kept its session`).toBe(false);
    // BUDGET_LOG=1: every page's figure, to see which group has room.
    if (process.env.BUDGET_LOG) console.log(`${visit.bytes}\t${path}`);
    if (visit.bytes > 500_000) over[path] = `${visit.bytes} bytes: ${visit.files.join(', ')}`;
  }
  expect(over).toEqual({});
});
