// End-to-end tests: the real `gatehouse` binary (embedded PostgreSQL in a fresh data directory)
// driven through Debian's Chromium. Playwright never downloads a browser here.
import { defineConfig } from '@playwright/test';

const port = Number(process.env.E2E_PORT ?? 3917);
const bin = process.env.GATEHOUSE_BIN ?? 'target/debug/gatehouse';
// A data directory of its own per run (E2E_DATA): run as root in a private checkout, its embedded
// cluster is relocated under /var/lib/postgresql, keyed by this path (server/src/pg/home.rs); a run
// that ended without removing it must not stop the next one at the same path.
const data = process.env.E2E_DATA ?? 'target/e2e-data';

export default defineConfig({
  testDir: 'end2end/tests',
  outputDir: 'end2end/test-results',
  workers: 1,
  retries: 0,
  timeout: 60_000,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
             '--disable-sync', '--no-first-run', '--disable-quic'],
    },
    trace: 'retain-on-failure',
  },
  webServer: {
    // A data directory whose embedded cluster was relocated (a private checkout, see
    // server/src/pg/home.rs) links to it: remove the cluster with the directory.
    command: `sh -c 'if [ -L ${data}/postgres ]; then rm -rf "$(readlink ${data}/postgres)"; fi; ` +
      `rm -rf ${data} && exec ${bin} serve'`,
    url: `http://127.0.0.1:${port}/readyz`,
    timeout: 120_000,
    reuseExistingServer: false,
    stdout: 'ignore',
    stderr: 'pipe',
    env: {
      GATEHOUSE_LISTEN: `127.0.0.1:${port}`,
      GATEHOUSE_DATA_DIR: data,
      GATEHOUSE_BOOTSTRAP_ADMIN: 'admin:correct horse battery',
      GATEHOUSE_LOGIN_ACCOUNT_LIMIT: '3',
      GATEHOUSE_LOGIN_ADDRESS_LIMIT: '1000',
      // No scheduled fleet scan: the first is due a minute after start, and would probe the
      // specs' TLS servers after they closed (the specs scan what they need themselves).
      GATEHOUSE_SCAN_INTERVAL_HOURS: '0',
      LEPTOS_SITE_ROOT: process.env.LEPTOS_SITE_ROOT ?? 'target/site',
      RUST_LOG: 'warn',
    },
  },
});
