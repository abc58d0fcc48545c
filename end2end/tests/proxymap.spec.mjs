// Runs after policy.spec (files run in name order, one server).
// The proxy-map editor in the browser: an invalid line shows its error in place before any save;
// fixed, the map is saved, published and served; the next version is compared with it. Then a
// cluster's map rolled out to simulated nodes (real SSH) from its page: planned, applied, and
// every node seen holding the published version.
import { test, expect } from '@playwright/test';
import { ADMIN, finesseCluster, signInAndWait, hydrated, simulator } from './support.mjs';

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
  await expect(page.locator('svg path[data-level="error"][data-lines~="2"]').first()).toBeVisible();
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

test('a long map is edited through the lines in view, and nothing outside them is lost', async ({ page, playwright, baseURL }) => {
  // 3,000 lines: more than the box holds whole (1,000), so it holds a window around the view.
  const LINES = 3000;
  const line = (n) => (n === 2500 ? `n${n}.lan.example.com:8445=10.0.0.5:443` : `n${n}.lan.example.com:8445=n${n}.xyz.example.com:443`);
  const original = Array.from({ length: LINES }, (_, i) => line(i + 1)).join('\n') + '\n';
  const api = await playwright.request.newContext({ baseURL, extraHTTPHeaders: { Origin: baseURL } });
  await signInAndWait(page, ADMIN);
  await api.post('/api/v1/session', { data: ADMIN });
  const map = await (await api.post('/api/v1/proxymaps', { data: { name: 'Long map' } })).json();
  const saved = await api.post(`/api/v1/proxymaps/${map.id}/versions`, { data: { text: original, base_version: 0, comment: 'long' } });
  expect(saved.status(), await saved.text()).toBe(201);

  await page.goto(`/proxy-map/${map.id}`);
  await hydrated(page);
  const text = page.locator('#map-text');
  const held = () => text.evaluate((a) => a.value.split('\n'));
  expect((await held()).length).toBeLessThan(500);
  expect((await held())[0]).toBe(line(1));

  // The problem on line 2500 (an address on the external side) puts the cursor there.
  const problem = page.locator('[data-code="address-literal"]');
  await expect(problem).toContainText('line 2500, column 28');
  await problem.locator('button').click();
  await expect(text).toBeFocused();
  const beforeCursor = () => text.evaluate((a) => a.value.slice(0, a.selectionStart).split('\n').pop());
  expect(await beforeCursor()).toBe('n2500.lan.example.com:8445=');
  for (let i = 0; i < 8; i++) await page.keyboard.press('Delete');
  await page.keyboard.type('n2500.xyz.example.com');
  await expect(page.getByTestId('map-summary')).toHaveText('3000 mappings · 0 errors · 0 warnings');
  // The table view shows the first thousand and says how many more there are.
  await page.click('button:has-text("Table")');
  await expect(page.getByTestId('map-table').locator('tbody tr')).toHaveCount(1000);
  await expect(page.getByTestId('map-table')).toContainText('The first 1000 mappings; 2000 more in the text view.');
  await page.click('button:has-text("Text")');

  // Find searches the whole map (the box holds only a window of it) and selects what it found;
  // Ctrl+F in the box of a long map goes to it.
  await text.click();
  await page.keyboard.press('Control+f');
  await expect(page.getByLabel('Find in the map')).toBeFocused();
  await page.keyboard.type('N2999.LAN');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('map-find-status')).toHaveText('line 2999, column 1 (1 in the map)');
  await expect(text).toBeFocused();
  expect(await text.evaluate((a) => a.value.slice(a.selectionStart, a.selectionEnd))).toBe('n2999.lan');
  await page.getByLabel('Find in the map').fill('nowhere.example');
  await page.getByRole('button', { name: 'Find next' }).click();
  await expect(page.getByTestId('map-find-status')).toHaveText('not in the map');

  // Scrolled back to the top, the box holds the first lines again.
  await page.getByTestId('map-scroller').evaluate((s) => { s.scrollTop = 0; });
  await expect.poll(async () => (await held())[0]).toBe(line(1));

  // Ctrl+End goes to the end of the map, not of the lines in the box.
  await text.click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type('last.lan.example.com:8445=last.xyz.example.com:443');
  await expect(page.getByTestId('map-summary')).toHaveText('3001 mappings · 0 errors · 0 warnings');
  // Ctrl+A selects the whole map.
  await page.keyboard.press('Control+a');
  expect(await text.evaluate((a) => a.selectionEnd - a.selectionStart)).toBe(original.length + 50 + 13);
  await page.keyboard.press('ArrowRight');
  // A selection left in the box when the focus goes elsewhere does not hold the window.
  await page.keyboard.press('Shift+ArrowLeft');
  await page.click('#map-comment');
  await page.getByTestId('map-scroller').evaluate((s) => { s.scrollTop = 1500 * 20; });
  await expect.poll(async () => (await held()).length).toBeLessThan(500);
  expect(await held()).toContain(line(1500));

  await page.fill('#map-comment', 'fixed line 2500, one more');
  await page.click('button:has-text("Save as version 2")');
  await expect(page.getByTestId('map-published')).toContainText('Latest: version 2.');
  const versions = await (await api.get(`/api/v1/proxymaps/${map.id}/versions`)).json();
  const expected = original.replace('=10.0.0.5:443', '=n2500.xyz.example.com:443') + 'last.lan.example.com:8445=last.xyz.example.com:443';
  expect(versions[0].text).toBe(expected);
  await api.dispose();
});

test('a map is rolled out from its page and every node shows it propagated', async ({ page, playwright, baseURL }) => {
  test.setTimeout(120_000);
  const NODES = ['finesse1.map-e2e.example.com', 'finesse2.map-e2e.example.com'];
  const PASSWORD = 'Map-e2e!pass';
  // A map "minute" lasts 300 ms: the nodes fetch soon after the config URI is set.
  const node = (fqdn, role) => `\n[[cluster.node]]\nfqdn = "${fqdn}"\nkind = "finesse"\nrole = "${role}"\npassword = "${PASSWORD}"\n`;
  const sim = await simulator(`minute_ms = 300\n\n[[cluster]]\nname = "Map E2E"\n${node(NODES[0], 'primary')}${node(NODES[1], 'secondary')}`);
  try {
    const api = await playwright.request.newContext({ baseURL, extraHTTPHeaders: { Origin: baseURL } });
    const cluster = await finesseCluster(api, sim, 'Map E2E', [[NODES[0], 'primary'], [NODES[1], 'secondary']], PASSWORD);
    const map = await (await api.post('/api/v1/proxymaps', { data: { name: 'Map E2E', cluster_id: cluster } })).json();
    const text = NODES.map((n, i) => `${n}:8445=desk${i + 1}.map-e2e.com:8445`).join('\n') + '\n';
    const saved = await api.post(`/api/v1/proxymaps/${map.id}/versions`, { data: { text, base_version: 0, comment: 'both nodes' } });
    expect(saved.status(), await saved.text()).toBe(201);
    expect((await api.post(`/api/v1/proxymaps/${map.id}/publish`, { data: { version: 1 } })).status()).toBe(200);

    // Before the rollout: the nodes fetch from nowhere.
    await signInAndWait(page, ADMIN);
    await page.goto(`/proxy-map/${map.id}`);
    await hydrated(page);
    const row = (fqdn) => page.locator(`[data-testid="propagation-row"][data-fqdn="${fqdn}"]`);
    await expect(row(NODES[0])).toHaveAttribute('data-state', 'not_configured', { timeout: 20_000 });
    // The form proposes this console's own URL for the map.
    const served = `${baseURL}/maps/${map.slug}/proxymap.txt`;
    await expect(page.getByLabel('Config URI', { exact: true })).toHaveValue(served);
    await page.getByLabel('Update frequency (minutes, 1 to 1440)').fill('2');

    // Planned from the form, shown, applied and verified on the plan page.
    await page.getByRole('button', { name: 'Plan rollout' }).click();
    await page.waitForURL(/\/plans\/\d+$/);
    await hydrated(page);
    const plan = page.url().split('/').pop();
    const heading = page.getByRole('heading', { name: `Plan #${plan}` }).locator('[data-state]');
    await expect(heading).toHaveAttribute('data-state', 'ready', { timeout: 20_000 });
    await expect(page.locator(`[data-fqdn="${NODES[0]}"]`)).toContainText(`config-uri add ${served}`);
    await expect(page.getByText("the map's rollout settings version 1")).toBeVisible();
    await page.getByTestId('apply').click();
    await expect(heading).toHaveAttribute('data-state', 'applied', { timeout: 60_000 });

    // Back on the map: every node holds the published version, fetched from here.
    await page.getByRole('link', { name: 'The proxy map' }).click();
    await page.waitForURL(new RegExp(`/proxy-map/${map.id}$`));
    await hydrated(page);
    await expect(async () => {
      await page.getByRole('button', { name: 'Check again' }).click();
      for (const fqdn of NODES) await expect(row(fqdn)).toHaveAttribute('data-state', 'propagated', { timeout: 2_000 });
    }).toPass({ timeout: 30_000 });
    await expect(row(NODES[0])).toContainText(served);
    await expect(row(NODES[0])).toContainText('2 min');
    await expect(row(NODES[0])).toContainText('version 1');

    // The editor's starting points: what a node holds (read over SSH), a proposal from the
    // inventory, a file that is no map.
    await page.getByText('Start from the inventory, a file or a node').click();
    await page.getByLabel('What a node holds (show-proxy-config-map)').selectOption({ label: NODES[1] });
    await page.getByRole('button', { name: 'Read it over SSH' }).click();
    await expect(page.getByTestId('tools-note')).toHaveText('2 line(s) read from the node: check and save them.');
    await expect(page.locator('#map-text')).toHaveValue(text);
    await page.getByLabel('External names: {host} is the node\'s first label, {port} its port').fill('{host}.map-e2e.com:{port}');
    await page.getByRole('button', { name: 'Propose from the inventory' }).click();
    const proposed = NODES.map((n) => `${n}:8445=${n.split('.')[0]}.map-e2e.com:8445`).join('\n') + '\n';
    await expect(page.locator('#map-text')).toHaveValue(proposed);
    await expect(page.getByTestId('map-summary')).toContainText('2 mappings · 0 errors');
    await page.locator('#map-file').setInputFiles({ name: 'map.bin', mimeType: 'application/octet-stream', buffer: Buffer.from([0x4d, 0x5a, 0, 0, 0xff, 0xfe]) });
    await expect(page.getByTestId('tools-note')).toContainText('map.bin was not loaded:');
    await expect(page.locator('#map-text')).toHaveValue(proposed);
  } finally {
    sim.child.kill();
  }
});

test('the rollout form keeps its settings and says why no plan was made', async ({ page, playwright, baseURL }) => {
  const api = await playwright.request.newContext({ baseURL, extraHTTPHeaders: { Origin: baseURL } });
  expect((await api.post('/api/v1/session', { data: ADMIN })).status()).toBe(200);
  const cluster = (await (await api.post('/api/v1/clusters', { data: { name: 'Rollout form E2E' } })).json()).id;
  const map = await (await api.post('/api/v1/proxymaps', { data: { name: 'Rollout form E2E', cluster_id: cluster } })).json();
  await signInAndWait(page, ADMIN);
  await page.goto(`/proxy-map/${map.id}`);
  await hydrated(page);
  await expect(page.getByText('Nothing is published yet: publish a version before rolling out')).toBeVisible();
  const frequency = page.getByLabel('Update frequency (minutes, 1 to 1440)');
  const fallback = page.getByLabel('Fallback URI (optional)');
  const restrict = page.getByLabel("Serve the map only to the inventory's node addresses");

  // Out of range: the field says so (planning takes the form as it stands).
  await frequency.fill('0');
  await page.getByRole('button', { name: 'Plan rollout' }).click();
  await expect(page.getByText('a number of minutes from 1 to 1440')).toBeVisible();

  // Saved: nothing changes on a node yet.
  await frequency.fill('5');
  await fallback.fill('http://maps.example.com/proxymap.txt');
  await restrict.check();
  await page.getByRole('button', { name: 'Save rollout settings' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Saved (rollout settings version 1)' })).toBeVisible();
  await expect(page.getByText('a number of minutes from 1 to 1440')).toHaveCount(0);

  // Planned with a change but nothing published: refused, and the change is kept.
  await frequency.fill('7');
  await page.getByRole('button', { name: 'Plan rollout' }).click();
  await expect(page.getByText('The rollout settings were saved, but no plan was made: nothing is published yet')).toBeVisible();
  await page.reload();
  await hydrated(page);
  await expect(frequency).toHaveValue('7');
  await expect(fallback).toHaveValue('http://maps.example.com/proxymap.txt');
  await expect(restrict).toBeChecked();
  const settings = await (await api.get(`/api/v1/proxymaps/${map.id}/rollout`)).json();
  expect(settings).toMatchObject({ version: 2, update_frequency: 7, restrict_to_inventory: true });
  await api.dispose();
});
