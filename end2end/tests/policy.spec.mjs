// Runs after inventory.spec (files run in name order, one server).
// The access policy in the browser against the simulator (gatehouse-sim, real SSH): edit a policy
// and see a field error as you type, save, plan and read the diff, apply with live progress until
// every node is verified, see the restarts pending and roll them; an auditor sees it all and can
// change nothing.
import { test, expect } from '@playwright/test';
import { ADMIN, createUser, finesseCluster, signInAndWait, hydrated, simulator as startSimulator } from './support.mjs';

const NODES = ['finesse1.policy-e2e.example.com', 'finesse2.policy-e2e.example.com'];
const PROXY = 'proxy-a.policy-e2e.example.com';
const PASSWORD = 'Policy-e2e!pass';
const AUDITOR = { username: 'policy-auditor', password: 'auditor horse battery' };

/// Starts the simulator with two Finesse nodes (the proxy's name in its host table).
async function simulator() {
  const node = (fqdn, role) => `
[[cluster.node]]
fqdn = "${fqdn}"
kind = "finesse"
role = "${role}"
password = "${PASSWORD}"
restart_ms = 300
`;
  return startSimulator(`[hosts]\n"${PROXY}" = "127.0.0.20"\n\n[[cluster]]\nname = "Policy E2E"\n${node(NODES[0], 'primary')}${node(NODES[1], 'secondary')}`);
}

test('a policy is edited with live errors, planned, applied with live progress, verified, and its restarts rolled; an auditor only reads', async ({ page, playwright, baseURL, browser }) => {
  test.setTimeout(120_000);
  const sim = await simulator();
  try {
    const api = await playwright.request.newContext({ baseURL, extraHTTPHeaders: { Origin: baseURL } });
    const cluster = await finesseCluster(api, sim, 'Policy E2E', [[NODES[0], 'primary'], [NODES[1], 'secondary']], PASSWORD);
    // The proxy in the inventory with its address: its name resolves for Gatehouse.
    const proxy = await api.post('/api/v1/nodes', { data: { cluster_id: cluster, kind: 'reverse_proxy', fqdn: PROXY, address: '127.0.0.20' } });
    expect(proxy.status(), await proxy.text()).toBe(201);
    await createUser(playwright, baseURL, { ...AUDITOR, role: 'auditor' });

    await signInAndWait(page, ADMIN);
    await page.goto(`/access-policy/${cluster}`);
    await hydrated(page);
    await expect(page.getByTestId('policy-version')).toContainText('No policy saved yet');

    // A mistake shows beside its field as it is typed, before anything is saved.
    await page.getByRole('button', { name: 'Add proxy' }).click();
    await page.getByLabel('Name', { exact: true }).fill('proxy A');
    const hosts = page.getByLabel('Names and addresses (one per line)');
    await hosts.fill('proxy_a.policy-e2e.example.com');
    const proxyCard = page.getByTestId('proxy');
    await expect(proxyCard).toContainText("'_' is not allowed in a host name");
    await expect(page.getByRole('button', { name: 'Save as a new version' })).toBeDisabled();
    await hosts.fill(PROXY);
    await expect(proxyCard).not.toContainText('is not allowed');
    // Leaving the field asks where its names lead from Gatehouse.
    await hosts.press('Tab');
    await expect(proxyCard.getByTestId('lookup')).toContainText(`${PROXY} → 127.0.0.20 (its address in the inventory)`);
    await page.getByLabel('Origins it serves (one per line)').fill('https://desk-a.example.com');
    await page.locator('#finesse-cors').selectOption('enable');
    await page.getByLabel('Why (kept with the version)').fill('proxy A goes live');
    await page.getByRole('button', { name: 'Save as a new version' }).click();
    await expect(page.getByText('Saved as version 1')).toBeVisible();
    await expect(page.getByTestId('policy-version')).toContainText('Version 1 saved by admin');

    // The plan: every command shown before anything runs.
    await page.getByRole('button', { name: 'Plan changes' }).click();
    await page.waitForURL(/\/plans\/\d+$/);
    await hydrated(page);
    const plan = page.url().split('/').pop();
    await expect(page.getByRole('heading', { name: `Plan #${plan}` }).locator('[data-state]')).toHaveAttribute('data-state', 'ready', { timeout: 20_000 });
    const first = page.locator(`[data-fqdn="${NODES[0]}"]`);
    await expect(first).toContainText(`utils system reverse-proxy allowed-hosts add ${PROXY}`);
    await expect(first).toContainText('utils finesse cors enable');
    await expect(first.getByTestId('step').first()).toHaveAttribute('data-state', 'pending');

    // Apply: the page follows it until both nodes are verified.
    await page.getByTestId('apply').click();
    await expect(page.getByRole('heading', { name: `Plan #${plan}` }).locator('[data-state]')).toHaveAttribute('data-state', 'applied', { timeout: 60_000 });
    for (const fqdn of NODES) {
      await expect(page.locator(`[data-fqdn="${fqdn}"] > div > [data-state]`)).toHaveAttribute('data-state', 'verified');
    }
    await expect(first.getByTestId('step').first()).toHaveAttribute('data-state', 'done');
    await first.getByText('Output').first().click();
    await expect(first).toContainText(`Source ${PROXY} successfully added`);

    // The restarts the changes need, rolled across the cluster one node at a time.
    await page.goto(`/access-policy/${cluster}`);
    await hydrated(page);
    await expect(page.getByTestId('restart-row')).toHaveCount(6);
    // An edit begun meanwhile survives the restarts ending (only their section is redrawn).
    const why = page.getByLabel('Why (kept with the version)');
    await why.fill('an edit not saved yet');
    await page.getByRole('button', { name: 'Rolling restart' }).click();
    await expect(page.getByTestId('restarts')).toContainText('Nothing to restart.', { timeout: 60_000 });
    await expect(why).toHaveValue('an edit not saved yet');

    // An auditor sees the policy and the plan and can change nothing.
    const context = await browser.newContext({ baseURL });
    const auditor = await context.newPage();
    await signInAndWait(auditor, AUDITOR);
    await auditor.goto(`/access-policy/${cluster}`);
    await hydrated(auditor);
    await expect(auditor.getByTestId('policy-version')).toContainText('Version 1');
    await expect(auditor.getByLabel('Name', { exact: true })).toBeDisabled();
    await expect(auditor.getByRole('button', { name: 'Plan changes' })).toHaveCount(0);
    await expect(auditor.getByRole('button', { name: 'Save as a new version' })).toHaveCount(0);
    await auditor.goto(`/plans/${plan}`);
    await hydrated(auditor);
    await expect(auditor.getByTestId('plan-summary')).toContainText('2 verified');
    await expect(auditor.getByTestId('apply')).toHaveCount(0);
    // The plan's address from before plans served every kind of change still leads to it.
    await auditor.goto(`/access-policy/plans/${plan}`);
    await expect(auditor.getByTestId('plan-summary')).toContainText('2 verified');
    await context.close();
  } finally {
    sim.child.kill();
  }
});

test('a cluster behind the same proxy pair follows another cluster\'s policy and leaves it with a copy', async ({ page, playwright, baseURL }) => {
  const api = await playwright.request.newContext({ baseURL, extraHTTPHeaders: { Origin: baseURL } });
  expect((await api.post('/api/v1/session', { data: ADMIN })).status()).toBe(200);
  const made = async (name) => (await (await api.post('/api/v1/clusters', { data: { name } })).json()).id;
  const [leader, follower] = [await made('Shared E2E A'), await made('Shared E2E B')];
  const policy = { proxies: [{ name: 'proxy pair', hosts: ['203.0.113.10'], origins: ['https://desk.shared-e2e.example'] }] };
  const saved = await api.put(`/api/v1/clusters/${leader}/access-policy`, { data: { policy, base_version: 0 } });
  expect(saved.status(), await saved.text()).toBe(200);

  await signInAndWait(page, ADMIN);
  await page.goto(`/access-policy/${follower}`);
  await hydrated(page);
  const sharing = page.getByTestId('sharing');
  await expect(sharing).toContainText('policy is its own');
  await page.getByLabel('Follow the policy of').selectOption({ label: 'Shared E2E A' });
  await sharing.getByRole('button', { name: 'Follow' }).click();
  await expect(sharing).toContainText('shared with Shared E2E A');
  await expect(page.getByTestId('policy-version')).toContainText('Shared E2E B follows this policy');
  await expect(page.getByLabel('Name', { exact: true })).toHaveValue('proxy pair');

  await sharing.getByRole('button', { name: 'Stop sharing: keep a copy' }).click();
  await expect(sharing).toContainText('policy is its own');
  await expect(page.getByTestId('policy-version')).toContainText('Version 1 saved by admin');
  await expect(page.getByLabel('Name', { exact: true })).toHaveValue('proxy pair');
});
