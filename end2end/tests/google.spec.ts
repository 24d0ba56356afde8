import { expect, Page } from '@playwright/test';
import { register, signIn, test, uniqueEmail } from './helpers';

/** Goes through the local OpenID Connect provider's login page as `login`. */
async function continueWithGoogle(page: Page, login: string) {
  await page.goto('/login');
  await page.getByRole('link', { name: 'Continue with Google' }).click();
  await page.locator('input[name=login]').fill(login);
  await page.locator('input[name=password]').fill('anything');
  await page.getByRole('button', { name: 'Sign-in' }).click();
}

test('a new user signs in with Google and can set a password later', async ({ page }) => {
  const login = `gauss${Date.now()}`;
  await continueWithGoogle(page, login);
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByRole('heading', { name: `Welcome, Test ${login}` })).toBeVisible();
  // The provider vouched for the email: no confirmation banner.
  await expect(page.getByRole('region', { name: 'Email confirmation' })).toHaveCount(0);

  await page.goto('/settings');
  await page.getByLabel('New password', { exact: true }).first().fill('my own passphrase');
  await page.getByRole('button', { name: 'Set password' }).click();
  await expect(page.getByText('Password set')).toBeVisible();
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await signIn(page, `${login}@example.test`, 'my own passphrase');
  await expect(page).toHaveURL(/\/dashboard$/);
});

test('a verified Google email signs in to the existing account', async ({ page, browser }) => {
  const email = uniqueEmail('linked');
  await register(page, 'Existing Person', email);
  const other = await browser.newContext({ extraHTTPHeaders: { 'X-Forwarded-For': '192.0.2.91' } });
  const google = await other.newPage();
  await continueWithGoogle(google, email);
  await expect(google).toHaveURL(/\/dashboard$/);
  await expect(google.getByRole('heading', { name: 'Welcome, Existing Person' })).toBeVisible();
  await other.close();
});

test('an unverified Google email never takes over an existing account', async ({ page, browser }) => {
  const email = uniqueEmail('unverified');
  await register(page, 'Careful Person', email);
  const other = await browser.newContext({ extraHTTPHeaders: { 'X-Forwarded-For': '192.0.2.92' } });
  const attacker = await other.newPage();
  await continueWithGoogle(attacker, email);
  await expect(attacker).toHaveURL(/\/login\?error=google_email_unverified/);
  await expect(attacker.getByText('Google has not verified that email address')).toBeVisible();
  await attacker.goto('/dashboard');
  await expect(attacker).toHaveURL(/\/login/);
  await other.close();
});

test('a forged callback is refused with a readable message', async ({ page }) => {
  await page.goto('/api/auth/google/callback?code=forged&state=forged');
  await expect(page).toHaveURL(/\/login\?error=google_auth_failed/);
  await expect(page.getByText('Google sign-in failed. Please try again.')).toBeVisible();
});
