import { expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { PASSWORD, codeIn, formOf, linkIn, readMail, register, signIn, test, uniqueEmail } from './helpers';

// Every account journey runs twice: with JavaScript on, clicking as soon as the page has loaded
// (never waiting for the islands to hydrate), and with JavaScript off. Forms are plain HTML
// forms in both cases, so both must end with the same message.
for (const js of [true, false]) {
  test.describe(js ? 'with JavaScript, clicking at once' : 'without JavaScript', () => {
    test.use({ javaScriptEnabled: js });

    test('sign up, confirm by the emailed link, turn on 2FA, sign in with the emailed code', async ({ page }) => {
      const email = uniqueEmail(js ? 'ada' : 'ada-nojs');
      await register(page, 'Ada Lovelace', email);
      await expect(page.getByRole('heading', { name: 'Welcome, Ada Lovelace' })).toBeVisible();
      await expect(page.getByText('Your account is ready')).toBeVisible();
      await expect(page.getByRole('region', { name: 'Email confirmation' })).toBeVisible();

      const mail = await readMail(email, /Confirm your email/);
      await page.goto(linkIn(mail));
      await page.getByRole('button', { name: 'Confirm my email address' }).click();
      await expect(page.getByText('Your email address is confirmed')).toBeVisible();
      await page.goto('/dashboard');
      await expect(page.getByRole('heading', { name: 'Welcome, Ada Lovelace' })).toBeVisible();
      await expect(page.getByRole('region', { name: 'Email confirmation' })).toHaveCount(0);

      await page.getByRole('button', { name: 'Sign out', exact: true }).click();
      await expect(page).toHaveURL(/\/login$/);
      await expect(page.getByText('You are signed out')).toBeVisible();
      await page.goto('/dashboard');
      await expect(page).toHaveURL(/\/login\?next=%2Fdashboard$/);

      await signIn(page, email.toUpperCase());
      await expect(page).toHaveURL(/\/dashboard$/);

      await page.goto('/settings');
      await page.getByRole('radio', { name: 'On' }).check();
      await page.locator('section', { hasText: 'Two-factor sign-in' }).getByRole('button', { name: 'Save' }).click();
      await expect(page.getByText('Two-factor sign-in is on')).toBeVisible();
      await expect(page.getByRole('radio', { name: 'On' })).toBeChecked();
      await page.getByRole('button', { name: 'Sign out', exact: true }).click();
      await expect(page).toHaveURL(/\/login/);

      await signIn(page, email);
      await expect(page).toHaveURL(/\/login\/code/);
      await expect(page.getByText('We emailed you a sign-in code')).toBeVisible();
      const code = codeIn(await readMail(email, /sign-in code/));
      await page.getByLabel('Sign-in code').fill(code);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect(page).toHaveURL(/\/dashboard$/);
    });

    test('sign-up shows field errors, keeps what was typed, and refuses a taken email', async ({ page }) => {
      const email = uniqueEmail('taken');
      await register(page, 'First User', email);
      await page.getByRole('button', { name: 'Sign out', exact: true }).click();

      await page.goto('/register');
      await page.getByLabel('Name').fill('A');
      await page.getByLabel('Email').fill('not-an-email');
      await page.getByLabel('Password').fill('password');
      await page.getByRole('button', { name: 'Create account' }).click();
      await expect(page.getByText('Your name needs at least 2 characters')).toBeVisible();
      await expect(page.getByText('Enter a valid email address')).toBeVisible();
      await expect(page.getByText('This password is too common')).toBeVisible();
      await expect(page.getByLabel('Name')).toHaveAttribute('aria-invalid', 'true');
      await expect(page.getByLabel('Name')).toHaveValue('A');
      await expect(page.getByLabel('Email')).toHaveValue('not-an-email');
      await expect(page.getByLabel('Password')).toHaveValue('');

      await page.getByLabel('Name').fill('Second User');
      await page.getByLabel('Email').fill(email.toUpperCase());
      await page.getByLabel('Password').fill('another good passphrase');
      await page.getByRole('button', { name: 'Create account' }).click();
      await expect(page.getByText('An account with this email already exists')).toBeVisible();
    });

    test('a wrong password gets the generic answer and keeps the email', async ({ page }) => {
      const email = uniqueEmail('nobody');
      await signIn(page, email, 'whatever it is');
      await expect(page.getByText('Invalid email or password')).toBeVisible();
      await expect(page).toHaveURL(/\/login/);
      await expect(page.getByLabel('Email')).toHaveValue(email);
    });

    test('sign-in goes back to the page that asked for it, and only on this site', async ({ page }) => {
      const email = uniqueEmail('next');
      await register(page, 'Next User', email);
      await page.getByRole('button', { name: 'Sign out', exact: true }).click();
      await page.goto('/settings');
      await expect(page).toHaveURL(/\/login\?next=%2Fsettings$/);
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect(page).toHaveURL(/\/settings$/);

      await page.getByRole('button', { name: 'Sign out', exact: true }).click();
      await page.goto('/login?next=//evil.example/x');
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect(page).toHaveURL(/\/dashboard$/);
    });

    test('two-factor sign-in with an emailed code', async ({ page, browser }) => {
      const email = uniqueEmail('grace');
      await register(page, 'Grace Hopper', email);
      await page.goto('/settings');
      await page.getByRole('radio', { name: 'On' }).check();
      await page.locator('section', { hasText: 'Two-factor sign-in' }).getByRole('button', { name: 'Save' }).click();
      await expect(page.getByText('Two-factor sign-in is on')).toBeVisible();

      const other = await browser.newContext({ javaScriptEnabled: js, extraHTTPHeaders: { 'X-Forwarded-For': '192.0.2.77' } });
      const phone = await other.newPage();
      await signIn(phone, email);
      await expect(phone).toHaveURL(/\/login\/code/);
      await expect(phone.getByText(`We sent a 6-digit code to ${email}`)).toBeVisible();
      const mail = await readMail(email, /sign-in code/);
      await phone.getByLabel('Sign-in code').fill('000000' === codeIn(mail) ? '111111' : '000000');
      await phone.getByRole('button', { name: 'Sign in' }).click();
      await expect(phone.getByText('The code is wrong or has expired')).toBeVisible();
      await phone.getByLabel('Sign-in code').fill(codeIn(mail));
      await phone.getByRole('button', { name: 'Sign in' }).click();
      await expect(phone).toHaveURL(/\/dashboard$/);
      await other.close();
    });

    test('forgot password: reset by email link, then sign in with the new one', async ({ page }) => {
      const email = uniqueEmail('alan');
      await register(page, 'Alan Turing', email);
      await page.getByRole('button', { name: 'Sign out', exact: true }).click();

      await page.goto('/forgot-password');
      await page.getByLabel('Email').fill(email);
      await page.getByRole('button', { name: 'Send the link' }).click();
      await expect(page.getByText('If the email exists, a reset link has been sent')).toBeVisible();

      const mail = await readMail(email, /Reset your Spacedly password/);
      await page.goto(linkIn(mail));
      // The token is in the page as an attribute: it posts with or without JavaScript.
      await expect(page.locator('input[name=token]')).toHaveAttribute('value', /.{20,}/);
      await page.getByLabel('New password').fill('password');
      await page.getByRole('button', { name: 'Save the new password' }).click();
      await expect(page.getByText('This password is too common')).toBeVisible();
      await page.getByLabel('New password').fill('an entirely new passphrase');
      await page.getByRole('button', { name: 'Save the new password' }).click();
      await expect(page).toHaveURL(/\/login\?reset=1/);
      await expect(page.getByText('Your password has been reset')).toBeVisible();

      await signIn(page, email, PASSWORD);
      await expect(page.getByText('Invalid email or password')).toBeVisible();
      await signIn(page, email, 'an entirely new passphrase');
      await expect(page).toHaveURL(/\/dashboard$/);
      await readMail(email, /password was changed/);
    });

    test('settings: profile changes are saved and validated', async ({ page }) => {
      await register(page, 'Emmy Noether', uniqueEmail('emmy'));
      await page.goto('/settings');
      await page.getByLabel('Name', { exact: true }).fill('E');
      await page.getByLabel('Time zone').selectOption('Asia/Tokyo');
      await page.locator('section', { hasText: 'Profile' }).getByRole('button', { name: 'Save' }).click();
      await expect(page.getByText('Your name needs at least 2 characters')).toBeVisible();
      await expect(page.getByLabel('Name', { exact: true })).toHaveValue('E');
      await expect(page.getByLabel('Time zone')).toHaveValue('Asia/Tokyo');
      await page.getByLabel('Name', { exact: true }).fill('Amalie Emmy Noether');
      await page.getByLabel('Time zone').selectOption('Europe/Berlin');
      await page.getByLabel('Weeks start on').selectOption('sunday');
      await page.locator('section', { hasText: 'Profile' }).getByRole('button', { name: 'Save' }).click();
      await expect(page.getByText('Settings saved')).toBeVisible();
      // The morning digest has its own form: off, and at 07:00.
      const digest = page.locator('#digest');
      await digest.getByLabel('Send me the morning digest').uncheck();
      await digest.getByLabel('Send it at').selectOption('7');
      await digest.getByRole('button', { name: 'Save' }).click();
      await expect(page.getByText('Morning digest saved')).toBeVisible();
      await page.reload();
      await expect(page.getByText('Settings saved')).toHaveCount(0);
      await expect(page.getByLabel('Name', { exact: true })).toHaveValue('Amalie Emmy Noether');
      await expect(page.getByLabel('Time zone')).toHaveValue('Europe/Berlin');
      await expect(page.getByLabel('Weeks start on')).toHaveValue('sunday');
      await expect(page.locator('#digest').getByLabel('Send it at')).toHaveValue('7');
      await expect(page.locator('#digest').getByLabel('Send me the morning digest')).not.toBeChecked();
    });

    test('API tokens: create, use from a script, revoke', async ({ page, request }) => {
      await register(page, 'Token User', uniqueEmail('token'));
      await page.goto('/settings');
      await page.getByLabel('Token name').fill('backup script');
      await page.getByRole('button', { name: 'Create token' }).click();
      const secret = await page.getByLabel('Your new token').inputValue();
      expect(secret).toMatch(/^spd_/);
      await expect(page.getByRole('cell', { name: 'backup script', exact: true })).toBeVisible();
      // Shown once: a reload no longer has it.
      await page.reload();
      await expect(page.getByLabel('Your new token')).toHaveCount(0);

      const me = await request.get('/api/user/me', { headers: { Authorization: `Bearer ${secret}` } });
      expect(me.status()).toBe(200);
      expect((await me.json()).data.user.name).toBe('Token User');

      await page.getByRole('button', { name: 'Revoke backup script' }).click();
      await expect(page.getByText('Token revoked')).toBeVisible();
      const after = await request.get('/api/user/me', { headers: { Authorization: `Bearer ${secret}` } });
      expect(after.status()).toBe(401);
    });

    test('delete the account with its password', async ({ page }) => {
      const email = uniqueEmail('gone');
      await register(page, 'Short Lived', email);
      await page.goto('/settings');
      const data = page.locator('section', { hasText: 'Your data' });
      const download = page.waitForEvent('download');
      await data.getByRole('link', { name: 'Download my data (JSON)' }).click();
      expect((await download).suggestedFilename()).toBe('spacedly-export.json');

      await data.getByLabel('Current password').fill('not my password');
      await data.getByRole('button', { name: 'Delete my account' }).click();
      await expect(page.locator('section', { hasText: 'Your data' }).getByText('Enter your current password to delete the account')).toBeVisible();
      await page.locator('section', { hasText: 'Your data' }).getByLabel('Current password').fill(PASSWORD);
      await page.locator('section', { hasText: 'Your data' }).getByRole('button', { name: 'Delete my account' }).click();
      await expect(page.getByText('Your account and all its data were deleted')).toBeVisible();
      await signIn(page, email);
      await expect(page.getByText('Invalid email or password')).toBeVisible();
    });

    test('settings list the sessions and sign one out', async ({ page, browser }) => {
      const email = uniqueEmail('sessions');
      await register(page, 'Two Devices', email);
      const other = await browser.newContext({ javaScriptEnabled: js, extraHTTPHeaders: { 'X-Forwarded-For': '192.0.2.123' } });
      const phone = await other.newPage();
      await signIn(phone, email);
      await expect(phone).toHaveURL(/\/dashboard$/);

      await page.goto('/settings');
      const sessions = page.locator('.session-list');
      await expect(sessions.getByText('This browser')).toBeVisible();
      await expect(sessions.getByText('192.0.2.123')).toBeVisible();
      await sessions.getByRole('button', { name: /Sign out .*192\.0\.2\.123/ }).click();
      await expect(page.getByText('That session is signed out')).toBeVisible();
      await expect(page.locator('.session-list').getByText('192.0.2.123')).toHaveCount(0);
      await expect(page.locator('.session-list').getByText('This browser')).toBeVisible();

      await phone.goto('/dashboard');
      await expect(phone).toHaveURL(/\/login/);
      await other.close();
    });
  });
}

test('a form sent twice takes effect once: one account, one token', async ({ page }) => {
  // Sign-up posted twice with the same form (a double click): both answers lead to the
  // dashboard, signed in, and there is one account.
  const email = uniqueEmail('twice');
  await page.goto('/register');
  const { nonce } = await formOf(page, '/_sf/account/register');
  expect(nonce.length).toBeGreaterThan(20);
  const form = { name: 'Twice Sent', email, password: PASSWORD, timezone: 'UTC', nonce };
  const [a, b] = await Promise.all([
    page.request.post('/_sf/account/register', { form, headers: { Accept: 'text/html' }, maxRedirects: 0 }),
    page.request.post('/_sf/account/register', { form, headers: { Accept: 'text/html' }, maxRedirects: 0 }),
  ]);
  expect([a.status(), b.status()]).toEqual([303, 303]);
  expect([a.headers()['location'], b.headers()['location']]).toEqual(['/dashboard', '/dashboard']);
  await page.goto('/dashboard');
  await expect(page.getByRole('heading', { name: 'Welcome, Twice Sent' })).toBeVisible();

  await page.goto('/settings');
  const token = await formOf(page, '/_sf/account/tokens/create');
  const tokenForm = { name: 'only once', expires_in_days: '30', nonce: token.nonce };
  await Promise.all(
    [1, 2, 3].map(() =>
      page.request.post('/_sf/account/tokens/create', { form: tokenForm, headers: { Accept: 'text/html' }, maxRedirects: 0 }),
    ),
  );
  await page.goto('/settings');
  await expect(page.getByRole('cell', { name: 'only once', exact: true })).toHaveCount(1);
});

test('a signed-out server call gets 401 or a sign-in redirect, never a 500', async ({ request }) => {
  const json = await request.post('/_sf/account/profile', {
    form: { name: 'x', timezone: 'UTC', digest_hour: '5' },
    headers: { Accept: 'application/json' },
    maxRedirects: 0,
  });
  expect(json.status()).toBe(401);
  const html = await request.post('/_sf/account/profile', {
    form: { name: 'x', timezone: 'UTC', digest_hour: '5' },
    headers: { Accept: 'text/html', Referer: `${test.info().project.use.baseURL}/settings` },
    maxRedirects: 0,
  });
  expect(html.status()).toBe(303);
  expect(html.headers()['location']).toBe('/login?next=%2Fsettings');
});

test('the account pages have no serious accessibility violation', async ({ page }) => {
  for (const url of ['/register', '/login', '/forgot-password', '/reset-password?token=x', '/verify-email?token=x']) {
    await page.goto(url);
    await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
    const results = await new AxeBuilder({ page }).analyze();
    const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(bad.map((v) => `${url}: ${v.id} ${v.help}`)).toEqual([]);
  }
  await register(page, 'Axe Tester', uniqueEmail('axe'));
  for (const url of ['/dashboard', '/settings', '/calendar', '/calendar?view=week']) {
    await page.goto(url);
    await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
    const results = await new AxeBuilder({ page }).analyze();
    const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(bad.map((v) => `${url}: ${v.id} ${v.help}`)).toEqual([]);
  }
});
