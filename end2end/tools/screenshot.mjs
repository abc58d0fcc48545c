// Screenshots of console pages, for looking at what a change did.
//   node end2end/tools/screenshot.mjs BASE_URL OUT_DIR [--user U --password P] [--width W] PATH...
// Signs in first when a user is given. Uses Debian's Chromium (no browser download).
import { chromium } from '@playwright/test';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const [, value] = args.splice(i, 2);
  return value;
};
const user = option('--user');
const password = option('--password');
const width = Number(option('--width', '1280'));
const [base, out, ...paths] = args;

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
         '--disable-sync', '--no-first-run', '--disable-quic'],
});
const page = await browser.newPage({ viewport: { width, height: 800 } });
page.on('console', (m) => { if (m.type() === 'error') console.error('console:', m.text()); });
if (user) {
  await page.goto(`${base}/login`);
  await page.fill('#username', user);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.click('button[type=submit]')]);
}
for (const path of paths) {
  const response = await page.goto(`${base}${path}`);
  await page.waitForLoadState('networkidle');
  const name = path.replace(/[^a-z0-9]+/gi, '_').replace(/^_|_$/g, '') || 'root';
  await page.screenshot({ path: `${out}/${name}-${width}.png`, fullPage: true });
  console.log(`${path} -> ${response.status()} ${out}/${name}-${width}.png`);
}
await browser.close();
