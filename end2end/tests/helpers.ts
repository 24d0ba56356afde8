import { Page, expect, test as base } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

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

/** The second instance, without SMTP, whose mail goes to the development mailbox. */
export const devMailboxURL = `http://127.0.0.1:${Number(process.env.E2E_PORT ?? 3100) + 1}`;

/** A unique address per test run, so tests never share an account. */
export function uniqueEmail(prefix: string): string {
  return `${prefix}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
}

export const PASSWORD = 'a long $ecret <script>';

/**
 * The text of the newest email to `to` whose subject matches, as received by the test SMTP
 * server (end2end/smtp/sink.py), waiting for it to arrive.
 */
export async function readMail(to: string, subject: RegExp, timeout = 20_000): Promise<string> {
  const dir = path.resolve(__dirname, '..', '..', '.data', 'e2e-smtp');
  let text = '';
  await expect(async () => {
    const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort().reverse() : [];
    const found = files
      .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as { to: string[]; subject: string; text: string })
      .find((m) => m.to.some((t) => t.toLowerCase() === to.toLowerCase()) && subject.test(m.subject));
    expect(found, `an email to ${to} matching ${subject}`).toBeTruthy();
    text = found!.text;
  }).toPass({ timeout });
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
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
}

/** The value of a form's one-time nonce and its action, as a page renders it. */
export async function formOf(page: Page, action: string): Promise<{ url: string; nonce: string }> {
  const form = page.locator(`form[action="${action}"]`).first();
  return { url: action, nonce: (await form.locator('input[name=nonce]').getAttribute('value')) ?? '' };
}

export async function signIn(page: Page, email: string, password = PASSWORD) {
  await page.goto('/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/**
 * Runs one SQL statement on the app's database and answers its output. For moving time-bound
 * data only (making a review due now); what the app shows is always read from the page.
 */
export function sql(statement: string): string {
  const url = process.env.E2E_DATABASE_URL;
  if (!url) throw new Error('E2E_DATABASE_URL is not set');
  return execFileSync('psql', [url, '-X', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1', '-c', statement], {
    encoding: 'utf8',
  }).trim();
}
