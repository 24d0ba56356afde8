import { defineConfig } from '@playwright/test';
import path from 'node:path';

// The release build, a fresh database and its own data folder (dev outbox under .data/e2e/mail).
const port = Number(process.env.E2E_PORT ?? 3100);
const baseURL = `http://127.0.0.1:${port}`;
const root = path.resolve(__dirname, '..');
// A real OpenID Connect provider on this machine stands in for Google.
const oidcPort = Number(process.env.E2E_OIDC_PORT ?? 3300);
const oidcIssuer = `http://127.0.0.1:${oidcPort}`;

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  workers: 2,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL,
    trace: 'retain-on-failure',
    launchOptions: {
      // Debian's Chromium; never a downloaded browser.
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
  webServer: [
  {
    command: 'node oidc/provider.mjs',
    url: `${oidcIssuer}/.well-known/openid-configuration`,
    cwd: __dirname,
    reuseExistingServer: false,
    timeout: 30_000,
    stdout: 'ignore',
    stderr: 'pipe',
    env: { OIDC_PORT: String(oidcPort), E2E_PORT: String(port), PATH: process.env.PATH ?? '' },
  },
  {
    command: process.env.SPACEDLY_BIN ?? path.join(root, 'target/release/spacedly'),
    url: `${baseURL}/health`,
    cwd: root,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
    stderr: 'pipe',
    env: {
      APP_ENV: 'development',
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: baseURL,
      DATABASE_URL: process.env.E2E_DATABASE_URL ?? '',
      DATA_DIR: path.join(root, '.data/e2e'),
      LEPTOS_SITE_ROOT: path.join(root, 'target/site'),
      METRICS_TOKEN: 'e2e-metrics-token',
      // Tests act as many clients through X-Forwarded-For (see tests/helpers.ts).
      TRUSTED_PROXIES: '1',
      RATE_LIMIT_PER_SECOND: '1000',
      RATE_LIMIT_BURST: '5000',
      RUST_LOG: 'warn,spacedly_server=info',
      PATH: process.env.PATH ?? '',
      GOOGLE_CLIENT_ID: 'spacedly-test',
      GOOGLE_CLIENT_SECRET: 'spacedly-test-secret',
      OIDC_ISSUER: oidcIssuer,
      OIDC_AUTH_URL: `${oidcIssuer}/auth`,
      OIDC_TOKEN_URL: `${oidcIssuer}/token`,
    },
  },
  ],
});
