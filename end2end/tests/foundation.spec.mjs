// The foundation as a person meets it: signing in, being refused, the audit log, hydration.
import { test, expect } from '@playwright/test';
import { ADMIN, loc, signIn, signInAndWait, createUser, hydrated } from './support.mjs';

test('an admin signs in and lands on the dashboard', async ({ page }) => {
  await signInAndWait(page, ADMIN);
  await expect(page).toHaveURL('/');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Dashboard');
  await expect(page.getByText('No clusters yet')).toBeVisible();
});

test('a wrong password says so and stays on the sign-in page', async ({ page }) => {
  await signIn(page, { username: 'admin', password: 'not the password' });
  await expect(loc.alert(page)).toHaveText('wrong username or password');
  await expect(page).toHaveURL(/\/login/);
});

test('repeated failures are throttled', async ({ page }) => {
  for (let i = 0; i < 3; i++) {
    await signIn(page, { username: 'mallory', password: `guess number ${i}` });
    await expect(loc.alert(page)).toHaveText('wrong username or password');
  }
  await signIn(page, { username: 'mallory', password: 'one more guess' });
  await expect(loc.alert(page)).toContainText('too many attempts; try again in');
});

test('an auditor cannot reach user management and gets 403 from a change', async ({ page, playwright, baseURL }) => {
  const auditor = { username: 'audrey', password: 'auditor passphrase 1', role: 'auditor' };
  await createUser(playwright, baseURL, auditor);
  await signInAndWait(page, auditor);
  const response = await page.goto('/settings/users');
  expect(response.status()).toBe(403);
  await expect(page.getByText('Admins only')).toBeVisible();
  // A change sent from the console's own page, as a script in it would: same origin, auditor's cookie.
  const answer = await page.evaluate(async () => {
    const r = await fetch('/api/v1/users', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'eve', password: 'eve wants admin', role: 'admin' }),
    });
    return { status: r.status, body: await r.json() };
  });
  expect(answer.status).toBe(403);
  expect(answer.body.error).toBe('forbidden');
  expect(answer.body.message).toContain('auditor');
});

test('the audit page shows the sign-in, and the export downloads with hashes', async ({ page }) => {
  await signInAndWait(page, ADMIN);
  await page.goto('/audit?action=auth.login');
  const row = loc.auditRows(page).filter({ hasText: 'auth.login' }).filter({ hasText: 'success' }).first();
  await expect(row).toContainText('admin');
  await hydrated(page);
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
  expect(download.suggestedFilename()).toBe('gatehouse-audit.csv');
  const fs = await import('node:fs/promises');
  const text = await fs.readFile(await download.path(), 'utf8');
  const [header, ...lines] = text.trim().split('\n');
  expect(header).toBe('id,at,actor,actor_role,source,action,target,outcome,detail,before,after,prev_hash,hash');
  expect(lines.some((l) => l.includes('auth.login') && l.includes('success'))).toBe(true);
  expect(lines[0].split(',').pop()).toMatch(/^[0-9a-f]{64}$/);
});

test('the hash chain verifies from the audit page', async ({ page }) => {
  await signInAndWait(page, ADMIN);
  await page.goto('/audit');
  await hydrated(page);
  await page.getByRole('button', { name: 'Verify hash chain' }).click();
  await expect(page.getByRole('status')).toContainText('Chain intact');
});

test('hydration: the password policy is checked in the browser as you type', async ({ page }) => {
  await signInAndWait(page, ADMIN);
  await page.goto('/settings/account');
  await hydrated(page);
  await page.locator('#new_password').pressSequentially('short');
  await expect(page.getByTestId('password-hint')).toHaveText('use at least 12 characters (this one has 5)');
  await page.locator('#new_password').pressSequentially(' but now long');
  await expect(page.getByTestId('password-hint')).toHaveText('Meets the policy.');
});

test('without the wasm the page still renders, but nothing runs in the browser', async ({ page }) => {
  await signInAndWait(page, ADMIN);
  await page.route('**/*.wasm', (route) => route.abort());
  await page.goto('/settings/account');
  await expect(page.getByRole('heading', { name: 'Your account' })).toBeVisible();
  await page.locator('#new_password').pressSequentially('short');
  await page.waitForTimeout(500);
  await expect(page.getByTestId('password-hint')).toHaveCount(0);
});

test('signing out ends the session', async ({ page }) => {
  await signInAndWait(page, ADMIN);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login/);
  await page.goto('/audit');
  await expect(page).toHaveURL(/\/login\?next=%2Faudit/);
});
