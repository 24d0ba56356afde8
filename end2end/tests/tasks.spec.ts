import { expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { register, test, uniqueEmail } from './helpers';

for (const js of [true, false]) {
  test.describe(js ? 'tasks with JavaScript' : 'tasks without JavaScript', () => {
    test.use({ javaScriptEnabled: js });

    test('create, edit, search, filter, complete and delete a task', async ({ page }) => {
      await register(page, 'Task Keeper', uniqueEmail(js ? 'tasks' : 'tasks-nojs'));
      await page.goto('/tasks');
      await expect(page.getByText('No tasks yet.')).toBeVisible();

      // Quick add, then a full form with every field.
      await page.getByLabel('New task').fill('Groceries');
      await page.getByRole('button', { name: 'Add', exact: true }).click();
      await expect(page.getByText('Task “Groceries” added.')).toBeVisible();
      await expect(page.getByRole('link', { name: 'Groceries' })).toBeVisible();

      await page.goto('/tasks/new');
      await page.getByLabel('Title').fill('');
      await page.getByLabel('Link').fill('javascript:alert(1)');
      await page.getByLabel('Description').fill('Line one\nLine two');
      await page.getByRole('button', { name: 'Add task' }).click();
      await expect(page.getByText('Give the task a title')).toBeVisible();
      await expect(page.getByText('Only http:// and https:// links are allowed')).toBeVisible();
      await expect(page.getByLabel('Description')).toHaveValue('Line one\nLine two');

      await page.getByLabel('Title').fill('Learn the FSRS algorithm');
      await page.getByLabel('Link').fill('https://example.com/fsrs');
      await page.getByLabel('Category').fill('Study');
      await page.getByLabel('Priority').selectOption('high');
      await page.getByLabel('Due date').fill('2020-01-02');
      await page.getByRole('button', { name: 'Add task' }).click();
      await expect(page.getByRole('heading', { name: 'Learn the FSRS algorithm', level: 1 })).toBeVisible();
      await expect(page.locator('.task-description')).toHaveText('Line one\nLine two');
      await expect(page.getByText(/Overdue: /)).toBeVisible();

      // Edit.
      await page.getByLabel('Title').fill('Learn FSRS well');
      await page.getByRole('button', { name: 'Save changes' }).click();
      await expect(page.getByText('Saved.')).toBeVisible();
      await expect(page.getByRole('heading', { name: 'Learn FSRS well', level: 1 })).toBeVisible();

      // Search and filters live in the URL.
      await page.goto('/tasks');
      await page.getByLabel('Search', { exact: true }).fill('fsrs');
      await page.getByRole('button', { name: 'Apply' }).click();
      await expect(page).toHaveURL(/q=fsrs/);
      await expect(page.getByRole('link', { name: 'Learn FSRS well' })).toBeVisible();
      await expect(page.getByRole('link', { name: 'Groceries' })).toHaveCount(0);
      await page.reload();
      await expect(page.getByLabel('Search', { exact: true })).toHaveValue('fsrs');
      await page.goto('/tasks?due=overdue');
      await expect(page.getByRole('link', { name: 'Learn FSRS well' })).toBeVisible();
      await expect(page.getByRole('link', { name: 'Groceries' })).toHaveCount(0);
      await page.goto('/tasks?q=nothing-like-this');
      await expect(page.getByText('No task matches these filters.')).toBeVisible();

      // Complete from the list, then re-open.
      await page.goto('/tasks');
      await page.getByRole('button', { name: 'Complete Groceries' }).click();
      await expect(page.getByText('“Groceries” is completed.')).toBeVisible();
      await expect(page.getByRole('button', { name: 'Re-open Groceries' })).toBeVisible();
      await page.goto('/notifications');
      await expect(page.getByText('You completed “Groceries”.')).toBeVisible();
      // The task due in 2020 was overdue when added: the alert comes from the job queue within
      // seconds; wait for it so that "mark all as read" covers it.
      await expect(async () => {
        await page.reload();
        await expect(page.getByText(/^Overdue: Learn/)).toBeVisible({ timeout: 1_000 });
      }).toPass({ timeout: 20_000 });
      await page.getByRole('button', { name: 'Mark all as read' }).click();
      await expect(page.getByText('0 unread')).toBeVisible();

      // Delete asks first.
      await page.goto('/tasks');
      await page.getByRole('link', { name: 'Groceries' }).click();
      await page.getByRole('link', { name: 'Delete this task…' }).click();
      await expect(page.getByText('Delete “Groceries” and its files? This cannot be undone.')).toBeVisible();
      await page.getByRole('button', { name: 'Yes, delete it' }).click();
      await expect(page).toHaveURL(/\/tasks$/);
      await expect(page.getByText('Task deleted')).toBeVisible();
      await expect(page.getByRole('link', { name: 'Groceries' })).toHaveCount(0);
    });
  });
}

test('another user’s task is a 404 page', async ({ page, browser }) => {
  await register(page, 'Owner', uniqueEmail('owner'));
  await page.goto('/tasks');
  await page.getByLabel('New task').fill('Private plans');
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await page.getByRole('link', { name: 'Private plans' }).click();
  const url = page.url();

  const other = await browser.newContext({ extraHTTPHeaders: { 'X-Forwarded-For': '192.0.2.201' } });
  const stranger = await other.newPage();
  await register(stranger, 'Stranger', uniqueEmail('stranger'));
  const response = await stranger.goto(url);
  expect(response?.status()).toBe(404);
  await expect(stranger.getByRole('heading', { name: "We couldn't find that page" })).toBeVisible();
  await expect(stranger.getByText('Private plans')).toHaveCount(0);
  await other.close();
});

test('the bell count changes live when a task is completed in another tab', async ({ page, context }) => {
  await register(page, 'Bell Ringer', uniqueEmail('bell'));
  await page.goto('/tasks');
  await page.getByLabel('New task').fill('Ring the bell');
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await page.goto('/dashboard');
  const bell = page.getByRole('link', { name: /^Notifications, / });
  await expect(bell).toHaveAttribute('aria-label', 'Notifications, none unread');
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');

  const other = await context.newPage();
  await other.goto('/tasks');
  await other.getByRole('button', { name: 'Complete Ring the bell' }).click();
  await expect(other.getByText('“Ring the bell” is completed.')).toBeVisible();

  await expect(bell).toHaveAttribute('aria-label', 'Notifications, 1 unread');
  await expect(page.locator('.bell__count')).toHaveText('1');
});

test('keyboard: q adds, j moves, x completes, ? lists the shortcuts', async ({ page }) => {
  await register(page, 'Key Person', uniqueEmail('keys'));
  await page.goto('/tasks');
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
  await page.keyboard.press('q');
  await expect(page.getByLabel('New task')).toBeFocused();
  await page.keyboard.type('First by keyboard');
  await page.keyboard.press('Enter');
  await expect(page.getByText('Task “First by keyboard” added.')).toBeVisible();
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
  await page.locator('body').click({ position: { x: 1, y: 1 } });
  await page.keyboard.press('j');
  await expect(page.getByRole('link', { name: 'First by keyboard' })).toBeFocused();
  await page.keyboard.press('x');
  await expect(page.getByText('“First by keyboard” is completed.')).toBeVisible();
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
  await page.keyboard.press('?');
  await expect(page.getByRole('heading', { name: 'Keyboard shortcuts' })).toBeVisible();
});

test('the task pages have no serious accessibility violation', async ({ page }) => {
  await register(page, 'Axe Tasks', uniqueEmail('axe-tasks'));
  await page.goto('/tasks');
  await page.getByLabel('New task').fill('Accessible task');
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await page.getByRole('link', { name: 'Accessible task' }).click();
  const detail = page.url();
  // The task page names the priority as the list does.
  await expect(page.locator('.task-detail__meta .badge--medium')).toHaveText('Medium');
  // An unread notification, so its "New" badge is checked too.
  await page.goto('/tasks');
  await page.getByRole('button', { name: 'Complete Accessible task' }).click();
  await page.goto('/notifications');
  await expect(page.locator('.badge--new')).toHaveText('New');
  for (const url of ['/tasks', '/tasks/new', detail, '/notifications']) {
    await page.goto(url);
    await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
    const results = await new AxeBuilder({ page }).analyze();
    const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(bad.map((v) => `${url}: ${v.id} ${v.help} ${v.nodes.map((n) => n.target).join(' ')}`)).toEqual([]);
  }
});

test('on a 390 px phone the header keeps every control on one line', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await register(page, 'Narrow Screen Person', uniqueEmail('narrow'));
  for (const url of ['/dashboard', '/tasks', '/notifications']) {
    await page.goto(url);
    const header = page.locator('.app-header__inner');
    const signOut = page.getByRole('button', { name: 'Sign out', exact: true });
    const box = (await signOut.boundingBox())!;
    const lineHeight = await signOut.evaluate((el) => parseFloat(getComputedStyle(el).lineHeight) || 20);
    // One line of text plus the button's padding and border.
    expect(box.height, `${url}: Sign out wraps`).toBeLessThan(lineHeight * 2);
    const inner = (await header.boundingBox())!;
    expect(box.x + box.width, `${url}: Sign out overflows`).toBeLessThanOrEqual(inner.x + inner.width + 1);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  }
});

const fixtures = `${__dirname}/../../server/tests/fixtures`;

for (const js of [true, false]) {
  test.describe(js ? 'uploads with JavaScript' : 'uploads without JavaScript', () => {
    test.use({ javaScriptEnabled: js });

    test('upload images and a document, see the preview, and read why a bad file is refused', async ({ page }) => {
      await register(page, 'Uploader', uniqueEmail(js ? 'upload' : 'upload-nojs'));
      await page.goto('/tasks');
      await page.getByLabel('New task').fill('Photos to sort');
      await page.getByRole('button', { name: 'Add', exact: true }).click();
      await page.getByRole('link', { name: 'Photos to sort' }).click();
      if (js) await expect(page.locator('form[data-upload]')).toHaveAttribute('data-enhanced', 'true');

      // Each file gets its own progress bar; the page reloads as soon as all are stored, so the
      // bars are watched from inside the page rather than looked for afterwards.
      const bars = new Set<string>();
      if (js) {
        await page.exposeFunction('reportProgressBar', (label: string) => bars.add(label));
        await page.evaluate(() => {
          new MutationObserver(() => {
            for (const bar of document.querySelectorAll('progress')) {
              (window as unknown as { reportProgressBar(l: string): void }).reportProgressBar(bar.getAttribute('aria-label') ?? '');
            }
          }).observe(document.body, { childList: true, subtree: true });
        });
      }
      await page.getByLabel('Choose files, or drop them here').setInputFiles([
        `${fixtures}/photo-800x600-exif-orientation6-gps.jpg`,
        `${fixtures}/diagram-2400x1800-alpha.png`,
      ]);
      await page.getByRole('button', { name: 'Upload' }).click();
      if (js) {
        await expect
          .poll(() => [...bars].sort())
          .toEqual(['Uploading diagram-2400x1800-alpha.png', 'Uploading photo-800x600-exif-orientation6-gps.jpg']);
      } else {
        await expect(page.getByText('2 file(s) uploaded.')).toBeVisible();
      }
      const preview = page.getByRole('img', { name: 'photo-800x600-exif-orientation6-gps.webp' });
      await expect(preview).toBeVisible();
      // Shown upright: taller than wide.
      const size = await preview.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight]);
      expect(size).toEqual([600, 800]);
      await expect(page.getByRole('img', { name: 'diagram-2400x1800-alpha.png' })).toBeVisible();

      // A program named .pdf is refused with a reason.
      await page.getByLabel('Choose files, or drop them here').setInputFiles({
        name: 'invoice.pdf',
        mimeType: 'application/pdf',
        buffer: Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(200)]),
      });
      await page.getByRole('button', { name: 'Upload' }).click();
      await expect(page.getByText(/Programs and executable files are not accepted/)).toBeVisible();
      await expect(page.getByRole('link', { name: 'invoice.pdf' })).toHaveCount(0);
    });
  });
}
