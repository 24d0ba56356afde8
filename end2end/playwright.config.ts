import { defineConfig } from '@playwright/test';
import path from 'node:path';

// The release build on a fresh database, with real neighbours: an SMTP server that keeps every
// message (PyPI aiosmtpd) and an OpenID Connect provider standing in for Google (npm oidc-provider).
const root = path.resolve(__dirname, '..');
const port = Number(process.env.E2E_PORT ?? 3100);
const baseURL = `http://127.0.0.1:${port}`;
// A second instance without SMTP, where mail goes to the development mailbox.
const devPort = port + 1;
export const devMailboxURL = `http://127.0.0.1:${devPort}`;
const smtpPort = Number(process.env.E2E_SMTP_PORT ?? 2626);
export const mailDir = path.join(root, '.data/e2e-smtp');
const oidcPort = Number(process.env.E2E_OIDC_PORT ?? 3300);
const oidcIssuer = `http://127.0.0.1:${oidcPort}`;
const binary = process.env.SPACEDLY_BIN ?? path.join(root, 'target/release/spacedly');

function appEnv(extra: Record<string, string>): Record<string, string> {
  return {
    APP_ENV: 'development',
    HOST: '127.0.0.1',
    DATABASE_URL: process.env.E2E_DATABASE_URL ?? '',
    LEPTOS_SITE_ROOT: path.join(root, 'target/site'),
    METRICS_TOKEN: 'e2e-metrics-token',
    // Tests act as many clients through X-Forwarded-For (see tests/helpers.ts).
    TRUSTED_PROXIES: '127.0.0.1/32',
    RATE_LIMIT_PER_SECOND: '1000',
    RATE_LIMIT_BURST: '5000',
    RUST_LOG: 'warn,spacedly_server=info',
    PATH: process.env.PATH ?? '',
    ...extra,
  };
}

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  workers: 2,
  // No retries: a flaky test is a bug in the app or in the test.
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
      command: `${path.join(root, '.tools/venv/bin/python')} smtp/sink.py ${mailDir} 127.0.0.1:${smtpPort}`,
      port: smtpPort,
      cwd: __dirname,
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: 'ignore',
      stderr: 'pipe',
    },
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
      command: binary,
      url: `${baseURL}/health`,
      cwd: root,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'pipe',
      stderr: 'pipe',
      env: appEnv({
        PORT: String(port),
        PUBLIC_URL: baseURL,
        DATA_DIR: path.join(root, '.data/e2e'),
        SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
        GOOGLE_CLIENT_ID: 'spacedly-test',
        GOOGLE_CLIENT_SECRET: 'spacedly-test-secret',
        OIDC_ISSUER: oidcIssuer,
        OIDC_AUTH_URL: `${oidcIssuer}/auth`,
        OIDC_TOKEN_URL: `${oidcIssuer}/token`,
      }),
    },
    {
      command: binary,
      url: `${devMailboxURL}/health`,
      cwd: root,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'pipe',
      stderr: 'pipe',
      // Its workers stay off: the queue belongs to the SMTP instance above.
      env: appEnv({
        PORT: String(devPort),
        PUBLIC_URL: devMailboxURL,
        DATA_DIR: path.join(root, '.data/e2e-dev'),
        RUN_WORKERS: 'false',
      }),
    },
  ],
});
