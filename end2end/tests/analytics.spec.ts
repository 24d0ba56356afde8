import AxeBuilder from '@axe-core/playwright';
import { expect } from '@playwright/test';
import { register, test, uniqueEmail } from './helpers';

for (const js of [true, false]) {
  test.describe(js ? 'analytics with JavaScript' : 'analytics without JavaScript', () => {
    test.use({ javaScriptEnabled: js });

    test('the dashboard and analytics show the numbers, charts and the same numbers as tables', async ({ page }) => {
      await register(page, 'Ana Lytics', uniqueEmail(js ? 'analytics' : 'analytics-nojs'));
      await page.goto('/tasks');
      for (const title of ['Enzymes', 'Glycolysis', 'Essay plan']) {
        await page.getByLabel('New task').fill(title);
        await page.getByRole('button', { name: 'Add', exact: true }).click();
        await expect(page.getByRole('link', { name: title })).toBeVisible();
      }
      await page.getByRole('button', { name: 'Complete Enzymes' }).click();
      await expect(page.getByRole('button', { name: 'Re-open Enzymes' })).toBeVisible();

      await page.goto('/analytics');
      const stat = (label: string) => page.locator('.stat', { hasText: label }).locator('dd');
      await expect(stat('Tasks completed')).toHaveText('1');
      await expect(page.locator('.stat').first().locator('dd')).toHaveText('3');
      await expect(stat('Current streak (days)')).toHaveText('1');

      // Every chart is drawn and described, and its table holds the same numbers.
      for (const id of ['daily', 'weekly', 'load', 'categories', 'heatmap']) {
        const figure = page.locator(`#chart-${id}`);
        await expect(figure.locator('svg')).toBeVisible();
        await expect(figure.locator('.chart__svg')).toHaveAttribute('role', 'img');
        await expect(figure.locator('.chart__svg')).toHaveAttribute('aria-label', /\S/);
      }
      const daily = page.locator('#chart-daily');
      await daily.getByText('Show the numbers').click();
      const lastRow = daily.locator('tbody tr').last();
      await expect(lastRow.locator('td').nth(1)).toHaveText('1');
      const categories = page.locator('#chart-categories');
      await categories.getByText('Show the numbers').click();
      await expect(categories.locator('tbody tr')).toHaveText([/Personal\s*3 \(100 %\)/]);

      if (js) {
        // (axe runs in the page: with JavaScript only.)
        const axe = await new AxeBuilder({ page }).analyze();
        expect(axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help}`)).toEqual([]);
      }

      await page.goto('/dashboard');
      await expect(page.getByRole('heading', { name: 'Welcome, Ana Lytics' })).toBeVisible();
      await expect(page.getByRole('heading', { name: 'Today' })).toBeVisible();
      await expect(page.locator('#chart-daily svg')).toBeVisible();
      await page.getByRole('link', { name: 'All analytics' }).click();
      await expect(page).toHaveURL(/\/analytics$/);
    });
  });
}
