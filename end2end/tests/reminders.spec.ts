import AxeBuilder from '@axe-core/playwright';
import { Page, expect } from '@playwright/test';
import { linkIn, readMail, register, test, uniqueEmail } from './helpers';

/** A day and time about a minute ahead (the next whole minute at least 45 s away), in UTC. */
function aboutAMinuteAhead(): { date: string; time: string; at: Date } {
  const at = new Date(Math.ceil((Date.now() + 45_000) / 60_000) * 60_000);
  const iso = at.toISOString();
  return { date: iso.slice(0, 10), time: iso.slice(11, 16), at };
}

async function confirmEmail(page: Page, email: string) {
  await page.goto(linkIn(await readMail(email, /Confirm your email/)));
  await page.getByRole('button', { name: 'Confirm my email address' }).click();
  await expect(page.getByText('Your email address is confirmed')).toBeVisible();
}

for (const js of [true, false]) {
  test.describe(js ? 'reminders with JavaScript' : 'reminders without JavaScript', () => {
    // The account's zone: the browser's with JavaScript, UTC without (the form's default).
    test.use({ javaScriptEnabled: js, timezoneId: 'UTC' });

    test('a reminder set a minute ahead arrives by email and in the app, at its time', async ({ page }) => {
      // Real time: the reminder is due within two minutes and comes within a minute of that.
      test.setTimeout(240_000);
      const email = uniqueEmail(js ? 'remind' : 'remind-nojs');
      await register(page, 'Rhea Minder', email);
      await confirmEmail(page, email);
      await page.goto('/tasks');
      await page.getByLabel('New task').fill('Krebs cycle');
      await page.getByRole('button', { name: 'Add', exact: true }).click();
      await page.getByRole('link', { name: 'Krebs cycle' }).click();
      const taskPage = page.url();
      const panel = page.getByRole('region', { name: 'Reminders' });

      // A refused form first: a time in the past, kept and explained.
      await panel.getByLabel('Day', { exact: true }).fill('2020-01-02');
      await panel.getByRole('button', { name: 'Add reminder' }).click();
      await expect(page.getByText('Choose a time in the future')).toBeVisible();
      await expect(panel.getByLabel('Day', { exact: true })).toHaveValue('2020-01-02');

      const { date, time, at } = aboutAMinuteAhead();
      await panel.getByLabel('Day', { exact: true }).fill(date);
      await panel.getByLabel('Time', { exact: true }).fill(time);
      await panel.getByLabel('How').selectOption('both');
      await panel.getByLabel('Message (optional)').fill('Draw it from memory <b>first</b>');
      await panel.getByRole('button', { name: 'Add reminder' }).click();
      await expect(page.getByText('Reminder added.')).toBeVisible();
      await expect(page.locator('.reminder')).toContainText('Draw it from memory <b>first</b>');
      await expect(page.locator('.reminder')).toContainText('Pending');

      // The calendar shows it on its day (the week holding it); pages turn by link and, with
      // JavaScript, by the arrow keys and h / l.
      await page.goto(`/calendar?view=week&day=${date}`);
      const title = page.locator('#calendar-title');
      const week = await title.textContent();
      const entry = page.locator('.calendar__entry', { hasText: 'Krebs cycle' });
      await expect(entry).toContainText(`${time} Reminder: Krebs cycle`);
      await expect(entry.getByRole('link')).toHaveAttribute('href', new URL(taskPage).pathname);
      if (js) {
        // (axe runs in the page: with JavaScript only.)
        const axe = await new AxeBuilder({ page }).analyze();
        expect(axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id)).toEqual([]);
        await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
        await page.keyboard.press('ArrowRight');
        await expect(title).not.toHaveText(week!);
        await expect(entry).toHaveCount(0);
        await page.keyboard.press('h');
        await expect(title).toHaveText(week!);
      } else {
        await page.getByRole('link', { name: /Next week/ }).click();
        await expect(title).not.toHaveText(week!);
        await page.getByRole('link', { name: /Previous week/ }).click();
        await expect(title).toHaveText(week!);
      }
      await expect(entry).toBeVisible();
      await page.goto(taskPage);
      const bell = page.getByRole('link', { name: /^Notifications, / });
      await expect(bell).toHaveAttribute('aria-label', 'Notifications, none unread');

      // The email comes at its time, not before.
      const mail = await readMail(email, /^Reminder: Krebs cycle$/, 180_000);
      expect(Date.now()).toBeGreaterThanOrEqual(at.getTime());
      expect(mail).toContain('Draw it from memory <b>first</b>');
      expect(mail).toContain(new URL(taskPage).pathname);

      // In the app: live on the open page with JavaScript; on the next load without.
      if (js) {
        await expect(bell).toHaveAttribute('aria-label', 'Notifications, 1 unread', { timeout: 30_000 });
      } else {
        await expect(async () => {
          await page.reload();
          await expect(bell).toHaveAttribute('aria-label', 'Notifications, 1 unread', { timeout: 1_000 });
        }).toPass({ timeout: 30_000 });
      }
      await page.goto('/notifications');
      await expect(page.getByText('Reminder: Krebs cycle')).toBeVisible();

      // Sent, and still the user's to complete: done from the calendar, which it comes back to.
      await page.goto(taskPage);
      await expect(page.locator('.reminder')).toContainText('sent');
      await page.goto(`/calendar?view=week&day=${date}`);
      await page.getByRole('button', { name: 'Done: Krebs cycle' }).click();
      await expect(page.getByText('Reminder done.')).toBeVisible();
      await expect(page).toHaveURL(/\/calendar\?view=week/);
      await expect(page.locator('.calendar__entry', { hasText: 'Krebs cycle' })).toContainText('Reminder (done)');
      await page.goto(taskPage);
      await expect(page.locator('.reminder')).toContainText('Completed');
    });
  });
}
