// What an admin's browser moves and waits for: Chromium's own transfer sizes (the DevTools
// protocol's encodedDataLength, headers included) and the time to hydration, for a first visit
// (empty cache: the sign-in page, signing in, the dashboard) and a repeat visit (the dashboard
// again, with the cache the first visit filled). Prints a Markdown report for BENCHMARKS.md.
//   node end2end/tools/bundle-bench.mjs BASE_URL USER PASSWORD
import { chromium } from '@playwright/test';

const [base, user, password] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
         '--disable-sync', '--no-first-run', '--disable-quic'],
});
const context = await browser.newContext();
const page = await context.newPage();
const cdp = await context.newCDPSession(page);
await cdp.send('Network.enable');

// Every finished request of a step: its URL, bytes on the wire, and whether the cache served it.
let requests = new Map();
cdp.on('Network.requestWillBeSent', (e) => requests.set(e.requestId, { url: e.request.url, bytes: 0, cached: false }));
cdp.on('Network.requestServedFromCache', (e) => { const r = requests.get(e.requestId); if (r) r.cached = true; });
cdp.on('Network.responseReceived', (e) => {
  const r = requests.get(e.requestId);
  if (r && (e.response.fromDiskCache || e.response.fromPrefetchCache)) r.cached = true;
});
cdp.on('Network.loadingFinished', (e) => { const r = requests.get(e.requestId); if (r) r.bytes = e.encodedDataLength; });

// The moment (ms after navigation start) the app marks the document hydrated.
await page.addInitScript(() => {
  // The script runs before <html> exists: watch the document, and the attribute anywhere.
  new MutationObserver((_, observer) => {
    if (document.documentElement?.hasAttribute('data-hydrated')) {
      window.__hydratedAt = performance.now();
      observer.disconnect();
    }
  }).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-hydrated'] });
});

async function visit(path, action) {
  if (action) await action(); else await page.goto(base + path);
  await page.waitForFunction(() => window.__hydratedAt !== undefined, null, { timeout: 30_000 });
  await page.waitForLoadState('networkidle');
  return page.evaluate(() => window.__hydratedAt);
}

function step(name, hydration) {
  const all = [...requests.values()];
  requests = new Map();
  const moved = all.filter((r) => !r.cached);
  const bytes = moved.reduce((sum, r) => sum + r.bytes, 0);
  const files = moved.map((r) => `${new URL(r.url).pathname} ${(r.bytes / 1024).toFixed(1)} KB`).join(', ');
  return { name, bytes, hydration, cached: all.length - moved.length, files };
}

const steps = [];
steps.push(step('first visit: /login', await visit('/login')));
steps.push(step('sign in → dashboard', await visit(null, async () => {
  await page.fill('#username', user);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.click('button[type=submit]')]);
  await page.evaluate(() => { window.__hydratedAt = undefined; });
  await page.reload();
})));
steps.push(step('repeat visit: dashboard', await visit('/')));

// Every page's first visit with an empty cache and the session: what each page and its group of
// the bundle's modules move (budget: 500 KB each; the sign-in page 300 KB).
const session = await context.storageState();
const get = async (path) => (await page.request.get(base + path)).json();
const [nodes, clusters] = await Promise.all([get('/api/v1/nodes'), get('/api/v1/clusters')]);
const pages = ['/', '/inventory', '/certificates', '/agents', '/proxy-map', '/access-policy', '/audit', '/settings',
  '/settings/users', '/settings/tokens', '/settings/account', '/settings/webhooks',
  ...nodes.slice(0, 1).map((n) => `/nodes/${n.id}`), ...clusters.slice(0, 1).map((c) => `/access-policy/${c.id}`)];
const firstVisits = [];
for (const path of pages) {
  const fresh = await browser.newContext({ storageState: session });
  const tab = await fresh.newPage();
  const finished = [];
  tab.on('requestfinished', (request) => finished.push(request));
  await tab.goto(base + path);
  await tab.waitForSelector('html[data-hydrated]', { state: 'attached', timeout: 30_000 });
  await tab.waitForLoadState('networkidle');
  let bytes = 0, wasm = 0;
  for (const request of finished) {
    const sizes = await request.sizes();
    bytes += sizes.responseHeadersSize + sizes.responseBodySize;
    if (request.url().endsWith('.wasm')) wasm += 1;
  }
  firstVisits.push({ path, bytes, wasm, requests: finished.length });
  await fresh.close();
}
await browser.close();

const first = steps[0].bytes + steps[1].bytes;
console.log('| step | bytes on the wire | from cache | time to hydration | what moved |');
console.log('|---|---|---|---|---|');
for (const s of steps) {
  console.log(`| ${s.name} | ${(s.bytes / 1024).toFixed(1)} KB | ${s.cached} requests | ${s.hydration.toFixed(0)} ms | ${s.files} |`);
}
console.log(`\nFirst visit (sign-in page and dashboard): ${(first / 1024).toFixed(1)} KB in all.`);
console.log('\n| page, first visit (empty cache, signed in) | bytes on the wire | requests | wasm modules |');
console.log('|---|---|---|---|');
for (const v of firstVisits) console.log(`| ${v.path} | ${(v.bytes / 1000).toFixed(1)} KB | ${v.requests} | ${v.wasm} |`);
console.log(`\nLargest first visit: ${(Math.max(...firstVisits.map((v) => v.bytes)) / 1000).toFixed(1)} KB (goal: at most 500 KB; the sign-in page at most 300 KB: ${(steps[0].bytes / 1000).toFixed(1)} KB).`);
