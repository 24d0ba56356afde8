import { test, expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { devMailboxURL } from './helpers';

const root = path.resolve(__dirname, '..', '..');

test.describe('landing page', () => {
  test.describe('without JavaScript', () => {
    test.use({ javaScriptEnabled: false });

    test('is rendered by the server', async ({ page }) => {
      const response = await page.goto('/');
      expect(response?.status()).toBe(200);
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Remember what you learn.');
      await expect(page.getByRole('heading', { name: 'How it works' })).toBeVisible();
      await expect(page.locator('html')).not.toHaveAttribute('data-hydrated', 'true');
    });
  });

  test('hydrates, and the theme toggle works and persists', async ({ page }) => {
    await page.emulateMedia({ colorScheme: 'light' });
    await page.goto('/');
    await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
    const toggle = page.locator('.site-header').getByRole('button', { name: /switch to dark theme/i });
    await expect(toggle).toBeVisible();
    await toggle.click();
    await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(bg).toBe('rgb(15, 17, 23)');

    // The choice is rendered by the server on the next visit (no flash, no inline script).
    await page.reload();
    await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
    await page.locator('.site-header').getByRole('button', { name: /switch to light theme/i }).click();
    await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  });

  test('follows the system dark mode when nothing was chosen', async ({ page }) => {
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto('/');
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(bg).toBe('rgb(15, 17, 23)');
  });

  test('keeps working on a phone-sized screen', async ({ page }) => {
    await page.setViewportSize({ width: 375, height: 740 });
    await page.goto('/');
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    expect(overflow).toBe(false);
  });
});

test('security headers carry a per-response nonce used by the scripts', async ({ page, request }) => {
  const response = await page.goto('/');
  const csp = response!.headers()['content-security-policy'];
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("'wasm-unsafe-eval'");
  const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
  expect(nonce).toBeTruthy();
  expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);
  const scriptNonces = await page.locator('script').evaluateAll((els) =>
    els.map((e) => (e as HTMLScriptElement).nonce),
  );
  expect(scriptNonces.length).toBeGreaterThan(0);
  for (const n of scriptNonces) expect(n).toBe(nonce);
  expect(response!.headers()['x-content-type-options']).toBe('nosniff');
  expect(response!.headers()['referrer-policy']).toBe('strict-origin-when-cross-origin');

  const again = await request.get('/');
  expect(again.headers()['content-security-policy']).not.toContain(`'nonce-${nonce}'`);
});

test('health reports ok', async ({ request }) => {
  const response = await request.get('/health');
  expect(response.status()).toBe(200);
  expect(await response.json()).toMatchObject({ status: 'ok', db: 'ok' });
});

test('an unknown page is a real 404 page', async ({ page }) => {
  const response = await page.goto('/no/such/page');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: "We couldn't find that page" })).toBeVisible();
  await page.getByRole('link', { name: 'Go to the home page' }).click();
  await expect(page).toHaveURL(/\/$/);
});

test('an unknown API path is a JSON 404', async ({ request }) => {
  const response = await request.get('/api/no-such-endpoint');
  expect(response.status()).toBe(404);
  expect(await response.json()).toMatchObject({ success: false, code: 'not_found' });
});

test('a cross-origin POST is refused', async ({ request }) => {
  const response = await request.post('/api/auth/logout', {
    headers: { Origin: 'https://evil.example' },
  });
  expect(response.status()).toBe(403);
});

test('hashed assets are cached for good and compressed', async ({ page, request }) => {
  await page.goto('/');
  const src = await page.locator('link[rel="modulepreload"]').first().getAttribute('href');
  expect(src).toMatch(/\/pkg\/spacedly\.[\w-]+\.js$/);
  const asset = await request.get(src!, { headers: { 'Accept-Encoding': 'br' } });
  expect(asset.status()).toBe(200);
  expect(asset.headers()['cache-control']).toContain('immutable');
  expect(asset.headers()['content-encoding']).toBe('br');
});

test('every page has no serious or critical accessibility violation', async ({ page }) => {
  for (const url of ['/', '/no/such/page']) {
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.goto(url);
      await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
      const results = await new AxeBuilder({ page }).analyze();
      const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      expect(bad.map((v) => `${url} (${scheme}): ${v.id} ${v.help} ${v.nodes.map((n) => n.target).join(' ')}`)).toEqual([]);
    }
  }
});

test.describe('development mailbox (the instance without SMTP)', () => {
  test.use({ baseURL: devMailboxURL });

  test('the dev mailbox lists and shows sent email', async ({ page }) => {
    const to = `e2e-${Date.now()}@example.com`;
    execFileSync(process.env.SPACEDLY_BIN ?? path.join(root, 'target/release/spacedly'), ['send-test-email', '--to', to], {
      cwd: root,
      env: {
        ...process.env,
        APP_ENV: 'development',
        DATABASE_URL: process.env.E2E_DATABASE_URL ?? '',
        DATA_DIR: path.join(root, '.data/e2e-dev'),
      },
    });
    await page.goto('/dev/mailbox');
    await expect(page.getByRole('heading', { name: 'Dev mailbox' })).toBeVisible();
    const row = page.getByRole('row').filter({ hasText: to });
    await expect(row).toBeVisible();
    await row.getByRole('link', { name: 'Spacedly test email' }).click();
    await expect(page.getByRole('heading', { name: 'Spacedly test email', level: 1 })).toBeVisible();
    await expect(page.locator('pre.mail-text')).toContainText('Email delivery works');
    const frame = page.frameLocator('iframe.mail-frame');
    await expect(frame.getByRole('heading', { name: 'Email delivery works' })).toBeVisible();
  });

  test('has no serious or critical accessibility violation', async ({ page }) => {
    await page.goto('/dev/mailbox');
    await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
    const results = await new AxeBuilder({ page }).analyze();
    const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(bad.map((v) => `${v.id} ${v.help}`)).toEqual([]);
  });
});

test('the development mailbox is not served when SMTP is configured', async ({ request }) => {
  const response = await request.get('/dev/mailbox');
  expect(response.status()).toBe(404);
});
