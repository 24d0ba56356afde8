import AxeBuilder from '@axe-core/playwright';
import { expect } from '@playwright/test';
import { register, sql, test, uniqueEmail } from './helpers';

for (const js of [true, false]) {
  test.describe(js ? 'review with JavaScript' : 'review without JavaScript', () => {
    test.use({ javaScriptEnabled: js });

    test('a memory item is reviewed: Show, Good, the next date, the card gone', async ({ page }) => {
      const email = uniqueEmail(js ? 'review' : 'review-nojs');
      await register(page, 'Rev Iewer', email);
      await page.goto('/tasks/new');
      await expect(page.getByLabel('Review it with spaced repetition')).toBeChecked();
      await page.getByLabel('Title').fill('Krebs cycle');
      await page.getByLabel('Description').fill('Citrate, isocitrate, alpha-ketoglutarate');
      await page.getByRole('button', { name: 'Add task' }).click();
      await expect(page.getByRole('heading', { name: 'Krebs cycle', level: 1 })).toBeVisible();
      await expect(page.getByRole('heading', { name: 'Spaced repetition' })).toBeVisible();

      await page.goto('/review');
      await expect(page.getByText('Nothing is due now.')).toBeVisible();

      // Move the data, not the clock: the first review (tomorrow morning) is due now.
      sql(
        `UPDATE reminders SET scheduled_at = now() - interval '1 minute'
          WHERE kind = 'review' AND status = 'pending'
            AND user_id = (SELECT id FROM users WHERE email = '${email}')`,
      );
      await page.goto('/review');
      // The navigation (folded into its menu here) counts it.
      await expect(page.locator('.nav-badge')).toHaveText(/^1\s*due$/);
      await expect(page.getByRole('heading', { name: 'Krebs cycle' })).toBeVisible();
      // Active recall: the notes stay hidden until Show.
      await expect(page.getByText('Citrate, isocitrate')).toBeHidden();
      const good = page.getByRole('button', { name: /Good · 2 d/ });
      await expect(good).toBeHidden();

      if (js) {
        const axe = await new AxeBuilder({ page }).analyze();
        expect(axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help}`)).toEqual([]);
        await page.keyboard.press('Space');
        await expect(page.getByText('Citrate, isocitrate')).toBeVisible();
        await expect(good).toBeVisible();
        await page.keyboard.press('3');
      } else {
        await page.locator('summary', { hasText: 'Show' }).click();
        await expect(page.getByText('Citrate, isocitrate')).toBeVisible();
        await good.click();
      }

      await expect(page).toHaveURL(/\/review$/);
      await expect(page.getByText(/Good: “Krebs cycle” comes back on \w{3} \d{1,2} \w{3}\./)).toBeVisible();
      await expect(page.getByRole('heading', { name: 'All done: you reviewed 1 topic today.' })).toBeVisible();
      await expect(page.getByRole('heading', { name: 'Krebs cycle' })).toHaveCount(0);
      await expect(page.getByText(/\w{3} \d{1,2} \w{3}: 1 review/)).toBeVisible();
      if (js) {
        const axe = await new AxeBuilder({ page }).analyze();
        expect(axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help}`)).toEqual([]);
      }
    });
  });
}
