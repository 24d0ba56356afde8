import { Page, expect } from '@playwright/test';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BUDGET_BYTES, FirstLoad, ORIGINAL_BYTES, measure, overBudget } from '../budget';
import { devMailboxURL, register, test, uniqueEmail } from './helpers';

const root = path.resolve(__dirname, '..', '..');
const siteRoot = path.join(root, 'target/site');

/** Loads `url` and returns the site files (under /pkg) that the load made the browser fetch. */
async function firstLoadOf(page: Page, url: string): Promise<FirstLoad> {
  const fetched: string[] = [];
  const onRequest = (request: { url(): string }) => {
    const u = new URL(request.url());
    if (u.pathname.startsWith('/pkg/')) fetched.push(u.pathname);
  };
  page.on('request', onRequest);
  await page.goto(url, { waitUntil: 'load' });
  // Islands load their WASM when the browser is idle: once they have run, everything the first
  // load needs has been fetched. (Not "network idle": signed-in pages keep an event stream open.)
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
  page.off('request', onRequest);
  return measure(url.replace(/^https?:\/\/[^/]+/, ''), siteRoot, fetched);
}

test('every page loads at most 180 KB of WASM, JS and CSS (brotli)', async ({ page, browser }) => {
  // Fifteen page loads, each compiling its WASM, and a sign-up: more than one page's worth of time.
  test.setTimeout(120_000);
  const loads: FirstLoad[] = [];
  for (const url of ['/', '/register', '/login', '/login/code', '/forgot-password', '/reset-password?token=x', '/verify-email?token=x', '/no/such/page']) {
    loads.push(await firstLoadOf(page, url));
  }
  await register(page, 'Budget Keeper', uniqueEmail('budget'));
  await page.goto('/tasks');
  await page.getByLabel('New task').fill('Budget task');
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await page.getByRole('link', { name: 'Budget task' }).click();
  const detail = new URL(page.url()).pathname;
  for (const url of ['/dashboard', '/settings', '/tasks', '/tasks/new', detail, '/notifications', '/calendar', '/analytics', '/review']) {
    loads.push(await firstLoadOf(page, url));
  }
  const dev = await browser.newPage();
  loads.push(await firstLoadOf(dev, `${devMailboxURL}/dev/mailbox`));
  await dev.close();

  for (const load of loads) {
    // The page did fetch its code: a measurement of nothing would prove nothing.
    expect(load.files.some((f) => f.file.endsWith('.wasm')), `${load.page} loads WASM`).toBe(true);
    expect(load.files.some((f) => f.file.endsWith('.css')), `${load.page} loads CSS`).toBe(true);
  }
  fs.writeFileSync(
    path.join(root, 'target', 'first-load.json'),
    JSON.stringify({ budget: BUDGET_BYTES, original: ORIGINAL_BYTES, pages: loads }, null, 2),
  );
  expect(overBudget(loads)).toEqual([]);
});

test('the budget check fails for a page over the budget', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'budget-'));
  // Random bytes do not compress: 200 KB stays about 200 KB under brotli.
  fs.writeFileSync(path.join(dir, 'big.wasm'), crypto.randomBytes(200_000));
  fs.writeFileSync(path.join(dir, 'small.css'), 'body { color: black; }\n'.repeat(100));
  const big = measure('/big', dir, ['/big.wasm', '/small.css']);
  const small = measure('/small', dir, ['/small.css', '/small.css']);
  expect(big.total).toBeGreaterThan(BUDGET_BYTES);
  expect(small.files).toHaveLength(1);
  const problems = overBudget([big, small]);
  expect(problems).toHaveLength(1);
  expect(problems[0]).toContain('/big:');
  fs.rmSync(dir, { recursive: true });
});
