import { Page, expect, test as base } from '@playwright/test';

/**
 * Each test is a different client: the server trusts one proxy hop in the end-to-end setup, so
 * X-Forwarded-For decides the IP that the per-IP security limits count.
 */
export const test = base.extend({
  page: async ({ page }, use) => {
    const ip = `198.51.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
    await page.context().setExtraHTTPHeaders({ 'X-Forwarded-For': ip });
    await use(page);
  },
});

/** A unique address per test run, so tests never share an account. */
export function uniqueEmail(prefix: string): string {
  return `${prefix}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
}

export const PASSWORD = 'a long $ecret <script>';

/** Opens the newest dev-mailbox email to `to` whose subject matches, and returns its text body. */
export async function readMail(page: Page, to: string, subject: RegExp): Promise<string> {
  let text = '';
  await expect(async () => {
    await page.goto('/dev/mailbox');
    const row = page.getByRole('row').filter({ hasText: to }).filter({ hasText: subject }).first();
    await expect(row).toBeVisible({ timeout: 1000 });
    await row.getByRole('link').click();
    text = (await page.locator('pre.mail-text').textContent()) ?? '';
    expect(text.length).toBeGreaterThan(0);
  }).toPass({ timeout: 20_000 });
  return text;
}

export function linkIn(text: string): string {
  const match = /(https?:\/\/\S+token=\S+)/.exec(text);
  if (!match) throw new Error(`no link in: ${text}`);
  return new URL(match[1]).pathname + new URL(match[1]).search;
}

export function codeIn(text: string): string {
  const match = /\b(\d{6})\b/.exec(text);
  if (!match) throw new Error(`no code in: ${text}`);
  return match[1];
}

export async function register(page: Page, name: string, email: string, password = PASSWORD) {
  await page.goto('/register');
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
}

export async function signIn(page: Page, email: string, password = PASSWORD) {
  await page.goto('/login');
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}
