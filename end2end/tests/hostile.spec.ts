import { Page, expect } from '@playwright/test';
import { register, sql, test, uniqueEmail } from './helpers';

// User text must only ever be text (or an attribute value), never markup: every page that shows
// it is rendered with hostile strings, and the parsed HTML is searched for what they would make
// if they broke out. Each payload marks the elements it would create with `data-inj`. New pages
// that show user text join the lists below.

interface Hostile {
  /** As a task title, a search and in descriptions. */
  text: string;
  /** At most 50 characters (categories). */
  short: string;
}

const HOSTILE: Hostile[] = [
  { text: '</title><i data-inj="title">x</i>', short: '</title><i data-inj="title">x</i>' },
  {
    text: '</title><meta http-equiv="refresh" content="0;url=https://evil.example/">',
    short: '</title><meta http-equiv=refresh content=0;url=/x>',
  },
  { text: '</textarea><i data-inj="textarea">x</i>', short: '</textarea><i data-inj="textarea">x</i>' },
  { text: '"><svg data-inj="svg" onload="alert(1)">', short: '"><svg data-inj="svg" onload="alert(1)">' },
  { text: "'><svg data-inj='svg1' onload='alert(1)'>", short: "'><svg data-inj='svg1' onload='alert(1)'>" },
  { text: '</script><i data-inj="script">x</i>', short: '</script><i data-inj="script">x</i>' },
  // Already escaped: must show literally, never be decoded into a tag.
  { text: '&lt;i data-inj="entity"&gt;', short: '&lt;i data-inj="entity"&gt;' },
  // A right-to-left override shows as it is (nothing strips or mangles it).
  { text: 'invoice\u202Efdp.exe', short: 'invoice\u202Efdp.exe' },
  {
    text: '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
    short: '<meta http-equiv=refresh content="0;url=/x">',
  },
];

/** Within the 2-50 characters of a name, with an RTL override and no control character. */
const NAME = '\u202E"></title></textarea><i data-inj="name">x';

/** Every hostile string, one per line: the description of every task. */
const DESCRIPTION = HOSTILE.map((h) => h.text).join('\n');

/** File names cannot hold a `/` (only the last path component is kept). */
const TEXT_FILE = '"><svg data-inj="file" onload="alert(1)">.txt';
const IMAGE_FILE = '&lt;b data-inj="file-entity"&gt;\u202Egnp.png';
// Refused for its extension, which the message quotes too.
const REFUSED_EXTENSION = '<i data-inj="extension">';
const REFUSED_FILE = `<img data-inj="refused" src=x onerror="alert(1)">.${REFUSED_EXTENSION}`;
// 1×1 transparent PNG.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

interface Task {
  id: string;
  title: string;
  description: string;
  link: string;
  category: string;
}

interface Seeded {
  tasks: Task[];
  /** The message of the reminder on each task. */
  reminders: string[];
  /** The stored names of the files on `tasks[0]`. */
  files: string[];
}

interface Want {
  /** `document.title` is this and the site name. */
  title?: string;
  /** Shown as text (outside scripts, styles and form fields). */
  texts?: string[];
  /** [selector, the `.value` of every element it matches]. */
  values?: [string, string][];
  /** [attribute, value]: some element carries exactly this value. */
  attrs?: [string, string][];
  /** Links with exactly this href, whose text is the href too. */
  hrefs?: string[];
}

interface Report {
  injected: string[];
  handlers: string[];
  titles: { count: number; inHead: number };
  httpEquiv: string[];
  scriptsWithoutNonce: string[];
  title: string;
  text: string;
  values: string[][];
  attrs: boolean[];
  hrefs: string[][];
}

/** Runs in the browser: parses `html` without running anything (or reads the live document). */
function inspect({ html, want }: { html: string | null; want: Want }): Report {
  const doc = html === null ? document : new DOMParser().parseFromString(html, 'text/html');
  const XHTML = 'http://www.w3.org/1999/xhtml';
  const all = Array.from(doc.querySelectorAll('*'));
  const brief = (e: Element) => e.outerHTML.slice(0, 160);
  const titles = all.filter((e) => e.localName === 'title' && e.namespaceURI === XHTML);
  const skip = new Set(['script', 'style', 'template', 'textarea', 'title']);
  let text = '';
  const walker = doc.createTreeWalker(doc.body ?? doc.documentElement, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!skip.has(node.parentElement?.localName ?? '')) text += node.nodeValue ?? '';
  }
  const valueOf = (e: Element) =>
    'value' in e && typeof (e as HTMLInputElement).value === 'string' ? (e as HTMLInputElement).value : (e.textContent ?? '');
  return {
    injected: all.filter((e) => e.hasAttribute('data-inj')).map(brief),
    handlers: all.flatMap((e) =>
      e.getAttributeNames().filter((a) => a.toLowerCase().startsWith('on')).map((a) => `<${e.localName} ${a}>`),
    ),
    titles: { count: titles.length, inHead: titles.filter((t) => t.parentElement === doc.head).length },
    httpEquiv: Array.from(doc.querySelectorAll('meta[http-equiv]')).map(brief),
    // A page's CSP hides the attribute from script (`.nonce` keeps it); a parsed copy has no CSP.
    scriptsWithoutNonce: Array.from(doc.querySelectorAll('script'))
      .filter((s) => !(s.nonce || s.getAttribute('nonce')))
      .map(brief),
    title: doc.title,
    text,
    values: (want.values ?? []).map(([selector]) => Array.from(doc.querySelectorAll(selector)).map(valueOf)),
    attrs: (want.attrs ?? []).map(([name, value]) => all.some((e) => e.getAttribute(name) === value)),
    hrefs: (want.hrefs ?? []).map((href) =>
      Array.from(doc.querySelectorAll('a'))
        .filter((a) => a.getAttribute('href') === href)
        .map((a) => a.textContent ?? ''),
    ),
  };
}

/** Asserts on a parsed page: nothing became markup, and the user text is there as text. */
async function check(browserPage: Page, label: string, html: string | null, want: Want) {
  const r = await browserPage.evaluate(inspect, { html, want });
  expect.soft(r.injected, `${label}: elements made from user text`).toEqual([]);
  expect.soft(r.handlers, `${label}: event handler attributes`).toEqual([]);
  expect.soft(r.titles, `${label}: one <title>, in <head>`).toEqual({ count: 1, inHead: 1 });
  expect.soft(r.httpEquiv, `${label}: <meta http-equiv>`).toEqual([]);
  expect.soft(r.scriptsWithoutNonce, `${label}: scripts without a nonce`).toEqual([]);
  if (want.title !== undefined) {
    expect.soft(r.title, `${label}: document title`).toBe(`${want.title} · Spacedly`);
  }
  for (const t of want.texts ?? []) {
    expect.soft(r.text, `${label}: shows ${JSON.stringify(t)} as text`).toContain(t);
  }
  (want.values ?? []).forEach(([selector, value], i) => {
    expect.soft(r.values[i], `${label}: value of ${selector}`).toEqual([value]);
  });
  (want.attrs ?? []).forEach(([name, value], i) => {
    expect.soft(r.attrs[i], `${label}: an element with ${name}=${JSON.stringify(value)}`).toBe(true);
  });
  (want.hrefs ?? []).forEach((href, i) => {
    expect.soft(r.hrefs[i], `${label}: the link to ${href}, shown as itself`).toEqual([href]);
  });
}

/** The server's HTML for `url` (or for the page a form redirected to), as is. */
async function html(response: { status(): number; url(): string; headers(): Record<string, string>; text(): Promise<string> }) {
  expect(response.status(), `status of ${response.url()}`).toBe(200);
  expect(response.headers()['content-type']).toContain('text/html');
  return response.text();
}

/** A multipart body with `files` parts, the names quoted as multipart allows (`\"`). */
function multipart(files: { name: string; type: string; body: Buffer }[]) {
  const boundary = `----spacedly-hostile-${Date.now()}`;
  const parts = files.map((f) =>
    Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="${f.name.replace(/"/g, '\\"')}"\r\n` +
          `Content-Type: ${f.type}\r\n\r\n`,
        'utf8',
      ),
      f.body,
      Buffer.from('\r\n'),
    ]),
  );
  return {
    headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` },
    data: Buffer.concat([...parts, Buffer.from(`--${boundary}--\r\n`)]),
  };
}

function taskWant(t: Task, files: string[] = []): Want {
  return {
    title: t.title,
    texts: [t.title, t.category, t.link, ...files],
    values: [
      ['#task-title', t.title],
      ['#task-description', t.description],
      ['#task-category', t.category],
      ['#task-link', t.link],
    ],
    // Images are shown with their name as the alt text.
    attrs: files.filter((f) => f !== TEXT_FILE).map((f): [string, string] => ['alt', f]),
    hrefs: [t.link],
  };
}

/** A user with a hostile name, a task per hostile string (through the JSON API), and files. */
async function seed(page: Page, origin: string, prefix: string): Promise<Seeded> {
  await register(page, NAME, uniqueEmail(prefix));
  const headers = { Origin: origin };
  const tasks: Task[] = [];
  const reminders: string[] = [];
  for (const h of HOSTILE) {
    const response = await page.request.post('/api/tasks', {
      headers,
      data: {
        title: h.text,
        description: DESCRIPTION,
        category: h.short,
        link: `https://example.com/search?q=${h.text}`,
        priority: 'high',
      },
    });
    expect(response.status(), await response.text()).toBe(201);
    const task = (await response.json()).data.task as Task;
    // Stored as typed: nothing upstream defuses the strings, so the pages get them raw.
    expect(task.title).toBe(h.text);
    expect(task.description).toBe(DESCRIPTION);
    expect(task.category).toBe(h.short);
    tasks.push(task);
    const message = `Remember ${h.text}`;
    const reminder = await page.request.post('/api/reminders', {
      headers,
      data: { taskId: task.id, scheduledAt: '2030-01-01T09:00:00Z', type: 'push', message },
    });
    expect(reminder.status(), await reminder.text()).toBe(201);
    expect((await reminder.json()).data.reminder.message).toBe(message);
    reminders.push(message);
  }
  const body = multipart([
    { name: TEXT_FILE, type: 'text/plain', body: Buffer.from('hello\n') },
    { name: IMAGE_FILE, type: 'image/png', body: PNG },
  ]);
  const upload = await page.request.post(`/api/attachments/${tasks[0].id}`, {
    headers: { ...headers, ...body.headers },
    data: body.data,
  });
  expect(upload.status(), await upload.text()).toBe(201);
  const files = ((await upload.json()).data.attachments as { originalName: string }[]).map((a) => a.originalName);
  expect(files).toContain(TEXT_FILE);
  expect(files.some((f) => f.startsWith('&lt;b data-inj="file-entity"&gt;\u202Egnp.'))).toBe(true);
  return { tasks, reminders, files };
}

test('user text is never markup in the server-rendered HTML', async ({ page, baseURL }) => {
  test.setTimeout(120_000);
  const origin = new URL(baseURL!).origin;
  const { tasks, reminders, files } = await seed(page, origin, 'hostile');
  // A page that parses HTML without running it, and is never navigated.
  const parser = await page.context().newPage();
  const get = async (url: string) => html(await page.request.get(url, { headers: { Accept: 'text/html' } }));
  const form = (url: string, fields: Record<string, string>) =>
    page.request.post(url, { form: fields, headers: { Accept: 'text/html', Origin: origin } });

  // Completing a task notifies, quoting its title.
  for (const t of tasks) {
    const done = await page.request.put(`/api/tasks/${t.id}`, { headers: { Origin: origin }, data: { status: 'completed' } });
    expect(done.status(), await done.text()).toBe(200);
  }

  // A task's page: title, description (in the edit form), category, link, file names, the
  // reminder's message.
  for (const [i, t] of tasks.entries()) {
    const want = taskWant(t, i === 0 ? files : []);
    want.texts!.push(reminders[i]);
    await check(parser, `/tasks/<${i}>`, await get(`/tasks/${t.id}`), want);
    await check(parser, `/tasks/<${i}>?confirm=delete`, await get(`/tasks/${t.id}?confirm=delete`), {
      ...want,
      texts: [...want.texts!, `Delete “${t.title}” and its files? This cannot be undone.`],
    });
  }

  // The list, its filters, and the search and category echoed back.
  await check(parser, '/tasks', await get('/tasks'), {
    texts: tasks.flatMap((t) => [t.title, t.category]),
    attrs: tasks.flatMap((t): [string, string][] => [
      ['aria-label', `Re-open ${t.title}`],
      ['value', t.category],
    ]),
  });
  for (const [i, t] of tasks.entries()) {
    await check(parser, `/tasks?q=<${i}>`, await get(`/tasks?q=${encodeURIComponent(HOSTILE[i].text)}`), {
      texts: [t.title],
      values: [['#filter-q', HOSTILE[i].text]],
    });
    await check(parser, `/tasks?category=<${i}>`, await get(`/tasks?category=${encodeURIComponent(t.category)}`), {
      texts: [t.title],
      values: [['#filter-category', t.category]],
    });
  }

  await check(parser, '/notifications', await get('/notifications'), {
    texts: tasks.map((t) => `You completed “${t.title}”.`),
  });
  await check(parser, '/settings', await get('/settings'), { texts: [NAME], values: [['#field-name', NAME]] });
  await check(parser, '/dashboard', await get('/dashboard'), { texts: [NAME, `Welcome, ${NAME}`] });
  // Categories are drawn into the server's SVG charts and their tables.
  await check(parser, '/analytics', await get('/analytics'), { texts: tasks.map((t) => t.category) });
  // A memory item due now: its title on the Review page, then in the undo button after rating.
  const memory = tasks[0];
  const on = await page.request.put(`/api/tasks/${memory.id}`, { headers: { Origin: origin }, data: { spacedRevision: true } });
  expect(on.status(), await on.text()).toBe(200);
  sql(`UPDATE reminders SET scheduled_at = now() - interval '1 minute'
        WHERE task_id = '${memory.id}' AND kind = 'review' AND status = 'pending'`);
  await check(parser, '/review', await get('/review'), { texts: [memory.title] });
  const rated = await form('/_sf/revision/rate', { task_id: memory.id, rating: 'good' });
  await check(parser, 'review: rated', await html(rated), { texts: [`Undo “Good” on ${memory.title}`] });

  // Flash messages that quote the user's text, on the page the form redirects to.
  for (const [i, t] of tasks.entries()) {
    const reopened = await form('/_sf/tasks/status', { id: t.id, status: 'todo', return_to: `/tasks/${t.id}` });
    await check(parser, `flash: “<${i}>” is open again`, await html(reopened), {
      ...taskWant(t),
      texts: [`“${t.title}” is open again.`],
    });
    const added = await form('/_sf/tasks/create', { title: `Quick ${HOSTILE[i].text}`, form_id: 'task-quick-add', return_to: '/tasks' });
    await check(parser, `flash: Task “Quick <${i}>” added`, await html(added), {
      texts: [`Task “Quick ${HOSTILE[i].text}” added.`],
    });
  }

  // A refused form comes back with what was typed: the fields are filled from the flash.
  const refusedNew = await form('/_sf/tasks/create', {
    title: HOSTILE[2].text,
    description: DESCRIPTION,
    link: 'javascript:alert(1)',
    category: HOSTILE[3].short,
    form_id: 'task-new',
  });
  await check(parser, 'flash: /tasks/new with typed values', await html(refusedNew), {
    texts: ['Only http:// and https:// links are allowed'],
    values: [
      ['#task-title', HOSTILE[2].text],
      ['#task-description', DESCRIPTION],
      ['#task-category', HOSTILE[3].short],
      ['#task-link', 'javascript:alert(1)'],
    ],
  });
  const edited = `${HOSTILE[0].text}\n${DESCRIPTION}`;
  const refusedEdit = await form('/_sf/tasks/update', {
    id: tasks[1].id,
    title: HOSTILE[5].text,
    description: edited,
    link: 'ftp://example.com/',
    category: HOSTILE[6].short,
    priority: 'low',
    status: 'todo',
  });
  await check(parser, 'flash: /tasks/<1> edit with typed values', await html(refusedEdit), {
    title: tasks[1].title,
    texts: ['Only http:// and https:// links are allowed'],
    values: [
      ['#task-title', HOSTILE[5].text],
      ['#task-description', edited],
      ['#task-category', HOSTILE[6].short],
    ],
  });

  // A refused file is named in the message.
  const refused = multipart([{ name: REFUSED_FILE, type: 'application/octet-stream', body: Buffer.from('hello') }]);
  const refusedFile = await page.request.post(`/api/attachments/${tasks[0].id}`, {
    headers: { Accept: 'text/html', Origin: origin, ...refused.headers },
    data: refused.data,
  });
  await check(parser, 'flash: refused upload', await html(refusedFile), {
    texts: [`${REFUSED_FILE}: Files ending in .${REFUSED_EXTENSION} are not accepted.`],
  });
});

test('user text stays text in the hydrated pages, with JavaScript on', async ({ page, baseURL }) => {
  test.setTimeout(90_000);
  const origin = new URL(baseURL!).origin;
  const { tasks, files } = await seed(page, origin, 'hostile-js');
  // An injected meta refresh must not take the page away while it is inspected: the off-site
  // answer is 204 (the browser stays), and is recorded.
  const offSite: string[] = [];
  await page.route(/^https?:\/\/evil\.example\//, (route) => {
    offSite.push(route.request().url());
    return route.fulfill({ status: 204 });
  });
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  const visit = async (url: string) => {
    const response = await page.goto(url);
    expect(response?.status(), url).toBe(200);
    await expect.soft(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
  };

  const done = await page.request.put(`/api/tasks/${tasks[3].id}`, { headers: { Origin: origin }, data: { status: 'completed' } });
  expect(done.status(), await done.text()).toBe(200);

  for (const [i, t] of tasks.entries()) {
    await visit(`/tasks/${t.id}`);
    await check(page, `/tasks/<${i}> (hydrated)`, null, taskWant(t, i === 0 ? files : []));
  }
  await visit('/tasks');
  await check(page, '/tasks (hydrated)', null, { texts: tasks.flatMap((t) => [t.title, t.category]) });
  await visit(`/tasks?q=${encodeURIComponent(HOSTILE[3].text)}`);
  await check(page, '/tasks?q=<3> (hydrated)', null, { texts: [tasks[3].title], values: [['#filter-q', HOSTILE[3].text]] });
  await visit('/notifications');
  await check(page, '/notifications (hydrated)', null, { texts: [`You completed “${tasks[3].title}”.`] });
  await visit('/settings');
  await check(page, '/settings (hydrated)', null, { texts: [NAME], values: [['#field-name', NAME]] });
  await visit('/dashboard');
  await check(page, '/dashboard (hydrated)', null, { texts: [`Welcome, ${NAME}`] });

  // The flash of the quick-add form, through the page itself.
  await visit('/tasks');
  await page.getByLabel('New task').fill(HOSTILE[0].text);
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await expect(page.getByText(`Task “${HOSTILE[0].text}” added.`)).toBeVisible();
  await expect.soft(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
  await check(page, 'flash: quick add (hydrated)', null, { texts: [`Task “${HOSTILE[0].text}” added.`] });

  expect.soft(dialogs, 'dialogs opened by user text').toEqual([]);
  expect.soft(offSite, 'off-site navigations caused by user text').toEqual([]);
});

test('a NUL in text is refused with a field error, never stored', async ({ page, baseURL }) => {
  const origin = new URL(baseURL!).origin;
  await register(page, 'Nul Sender', uniqueEmail('hostile-nul'));
  for (const field of ['title', 'description', 'category']) {
    const data: Record<string, string> = { title: 'A task', [field]: `before\u0000after` };
    const response = await page.request.post('/api/tasks', { headers: { Origin: origin }, data });
    expect.soft(response.status(), `POST /api/tasks with a NUL in ${field}`).toBe(400);
    const body = await response.json().catch(() => ({}));
    expect.soft(body.errors ?? {}, `the field error for a NUL in ${field}`).toHaveProperty(field);
  }
  // In the query too: the search and the category filter answer 400, never 500.
  for (const param of ['q', 'category']) {
    const response = await page.request.get(`/api/tasks?${param}=%00`);
    expect.soft(response.status(), `GET /api/tasks?${param}=%00`).toBe(400);
    const body = await response.json().catch(() => ({}));
    expect.soft(body.errors ?? {}, `the field error for a NUL in ${param}`).toHaveProperty(param);
  }
  const list = await page.request.get('/api/tasks');
  expect(((await list.json()).data.tasks as unknown[]).length).toBe(0);
});
