// Drives the console in Debian's Chromium through playwright-core, as a person would: register,
// sign out, sign in, create an organization, an API key and documents, find a document by
// search, draw and run a workflow and watch its steps succeed live; then checks that /docs and
// /graphiql render. Every page is screenshotted into the given folder. Any console error or
// uncaught exception on a page fails the run. Run by ai.arches.web.ConsoleBrowserTest:
//   node test/console.e2e.mjs http://127.0.0.1:PORT ../target/screenshots
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [base, shots = 'screenshots'] = process.argv.slice(2);
if (!base) {
  console.error('usage: node console.e2e.mjs BASE_URL [SCREENSHOT_DIR]');
  process.exit(2);
}
mkdirSync(shots, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 820 }, baseURL: base });
context.setDefaultTimeout(20_000);
const page = await context.newPage();

// Problems seen by the page: console errors (CSP violations among them), uncaught exceptions,
// pages or assets that failed, and any 5xx. Chromium also logs every API answer of 4xx as a
// console error ("Failed to load resource"); those the flow provokes on purpose (a wrong
// password) are the console's business to show, so they are judged by the response instead.
// GraphiQL's endpoint may not exist yet: its 404 while loading the schema is expected.
const problems = [];
page.on('console', (msg) => {
  const url = msg.location()?.url || '';
  const apiAnswer = /Failed to load resource: the server responded with a status of 4\d\d/.test(msg.text()) && url.includes('/api/v1/');
  if (msg.type() === 'error' && !apiAnswer) problems.push(`${page.url()}: console error: ${msg.text()} (${url})`);
});
page.on('pageerror', (e) => problems.push(`${page.url()}: uncaught: ${e.message}`));
page.on('response', (r) => {
  const api = new URL(r.url()).pathname.startsWith('/api/v1/');
  if (r.status() >= 500 || (!api && r.status() >= 400)) {
    problems.push(`${page.url()}: ${r.request().method()} ${r.url()} answered ${r.status()}`);
  }
});

const shot = async (name, fullPage = true) => {
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage });
  console.log(`screenshot ${name}.png`);
};
const step = (text) => console.log(`step: ${text}`);
const suffix = Date.now().toString(36);
const email = `ada-${suffix}@example.com`;
const password = 'correct horse battery';

try {
  step('the sign-in page');
  await page.goto('/');
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  await shot('01-sign-in');

  step('a wrong password shows the problem detail');
  await page.getByLabel('Email').fill('nobody@example.com');
  await page.getByLabel('Password').fill('wrong password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').waitFor();
  const alert = await page.getByRole('alert').innerText();
  if (!/401/.test(alert)) throw new Error(`the sign-in problem shows no status: ${alert}`);

  step('register');
  await page.getByRole('link', { name: 'Register' }).click();
  await page.getByLabel('Name').fill('Ada Lovelace');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await shot('02-register');
  await page.getByRole('button', { name: 'Register' }).click();
  await page.getByRole('heading', { name: 'Organizations' }).waitFor();

  step('sign out, then sign in with the labelled fields');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Organizations' }).waitFor();

  step('create an organization');
  await page.getByLabel('Name').fill('Acme Research');
  const slug = `acme-${suffix}`;
  await page.getByLabel('Slug').fill(slug);
  await page.getByRole('button', { name: 'Create organization' }).click();
  await page.getByRole('heading', { name: 'Content' }).waitFor();

  step('create documents');
  const docs = [
    ['Glacier survey notes', 'Field notes from the northern glacier survey: ice thickness measured with radar along twelve transects, meltwater channels mapped, and a surprising number of moraine boulders.', 'field, ice'],
    ['Quarterly budget review', 'The quarterly budget review covers travel, instruments and the cloud bill. Instruments ran over by eight percent; travel stayed under.', 'finance'],
    ['Onboarding guide', 'Welcome! This guide walks new researchers through accounts, the lab wiki, safety training and how to book the radar kit.', 'intro, guide'],
  ];
  for (const [title, body, tags] of docs) {
    await page.getByRole('link', { name: 'Content' }).first().click();
    await page.getByRole('link', { name: 'New document' }).click();
    await page.getByLabel('Title').fill(title);
    await page.getByLabel('Body').fill(body);
    await page.getByLabel('Tags').fill(tags);
    if (title.startsWith('Glacier')) {
      await page.getByLabel('Metadata (JSON object)').fill('{"source": "survey", "year": 2026}');
      await shot('05-content-new');
    }
    await page.getByRole('button', { name: 'Create document' }).click();
    await page.getByRole('heading', { name: title }).waitFor();
  }
  await shot('06-content-view');

  step('edit a document');
  await page.getByRole('link', { name: 'Edit' }).click();
  await page.getByLabel('Title').fill('Onboarding guide (2026)');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByRole('heading', { name: 'Onboarding guide (2026)' }).waitFor();

  step('the content list, filtered by a tag');
  await page.getByRole('link', { name: 'Content' }).first().click();
  await page.getByRole('link', { name: 'Glacier survey notes' }).waitFor();
  await shot('07-content');
  await page.getByRole('button', { name: 'finance' }).click();
  await page.getByRole('button', { name: 'Clear “finance”' }).waitFor();
  await page.getByRole('link', { name: 'Glacier survey notes' }).waitFor({ state: 'detached' });
  await page.getByRole('link', { name: 'Quarterly budget review' }).waitFor();

  step('find a document by search');
  await page.getByRole('link', { name: 'Search' }).click();
  await page.getByLabel('Query').fill('radar glacier ice');
  await page.getByLabel('Mode').selectOption('hybrid');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.locator('.hit').first().waitFor();
  const first = await page.locator('.hit a').first().innerText();
  if (first !== 'Glacier survey notes') throw new Error(`search ranked "${first}" first`);
  await shot('08-search');

  step('organization members and an API key');
  await page.getByRole('link', { name: 'Members & keys' }).click();
  await page.getByRole('heading', { name: 'Members' }).waitFor();
  await page.getByLabel('Key name').fill('CI pipeline');
  await page.getByLabel('Role', { exact: true }).last().selectOption('member');
  await page.getByRole('button', { name: 'Create key' }).click();
  await page.getByText('copy it now').waitFor();
  await shot('04-members-and-keys');
  await page.goto('/#/orgs');
  await page.getByRole('link', { name: 'Acme Research' }).waitFor();
  await shot('03-organizations');
  await page.getByRole('link', { name: 'Acme Research' }).click();

  step('create a workflow and see its DAG');
  await page.getByRole('link', { name: 'Workflows' }).click();
  await page.getByRole('link', { name: 'New workflow' }).click();
  await page.getByLabel('Name').fill('Greeting pipeline');
  await page.getByLabel('Description').fill('Transforms the input, waits, and joins two branches.');
  await page.locator('svg.dag g.dag-node').first().waitFor();
  await shot('09-workflow-new');
  await page.getByRole('button', { name: 'Create workflow' }).click();
  await page.getByRole('heading', { name: /Greeting pipeline/ }).waitFor();
  const nodes = await page.locator('svg.dag g.dag-node').count();
  if (nodes !== 4) throw new Error(`the DAG shows ${nodes} nodes, not 4`);
  await shot('10-workflow');

  step('start a run and watch it succeed live');
  await page.getByRole('button', { name: 'Start run' }).click();
  await page.getByRole('heading', { name: /^Run / }).waitFor();
  const status = page.getByTestId('run-status');
  await status.filter({ hasText: /^(succeeded|failed|cancelled)$/ }).waitFor({ timeout: 30_000 });
  const final = await status.innerText();
  if (final !== 'succeeded') throw new Error(`the run ended ${final}`);
  const events = await page.locator('.live').innerText();
  if (!/[1-9]\d* events/.test(events)) throw new Error(`no live events were shown: ${events}`);
  const succeeded = await page.locator('svg.dag g.step-succeeded').count();
  if (succeeded !== 4) throw new Error(`${succeeded} of 4 steps drawn as succeeded`);
  await page.getByText('Hello, Ada!').first().waitFor();
  await shot('11-run');

  step('the workflow lists the run');
  await page.getByRole('link', { name: 'Greeting pipeline' }).click();
  await page.locator('table.runs .status-succeeded').first().waitFor();

  step('the API reference renders');
  await page.goto('/docs');
  await page.getByRole('heading', { name: /Arches API/ }).first().waitFor({ timeout: 30_000 });
  const operations = await page.locator('[data-section-id^="operation/"]').count();
  if (operations < 40) throw new Error(`the reference shows ${operations} operations`);
  await shot('12-docs', false);
  await page.goto('/docs#tag/content/operation/searchContent');
  await page.waitForTimeout(1500);
  await shot('12-docs-search-operation', false);

  step('GraphiQL renders');
  await page.goto('/graphiql');
  await page.locator('.graphiql-container').waitFor({ timeout: 30_000 });
  await page.locator('.graphiql-query-editor .monaco-editor').first().waitFor({ timeout: 30_000 });
  await shot('13-graphiql', false);

  if (problems.length) throw new Error(`the pages reported problems:\n${problems.join('\n')}`);
  console.log('console e2e: ok');
} catch (e) {
  await page.screenshot({ path: path.join(shots, 'failure.png') }).catch(() => {});
  console.error(`console e2e: FAILED at ${page.url()}: ${e.message}`);
  if (problems.length) console.error(problems.join('\n'));
  process.exitCode = 1;
} finally {
  await browser.close();
}
