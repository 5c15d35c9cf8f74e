// Lighthouse scores of the web client (performance, accessibility, best
// practices), for the sign-in view and for a signed-in conversation.
// Run by scripts/lighthouse: node lighthouse.mjs <node_modules> <base URL>.

import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [modules, base] = process.argv.slice(2);
const load = (file) => import(pathToFileURL(join(modules, file)).href);
const { default: lighthouse } = await load('lighthouse/core/index.js');
const { default: puppeteer } = await load('puppeteer-core/lib/puppeteer/puppeteer-core.js');

const browser = await puppeteer.launch({
  executablePath: process.env.CHROME_PATH || '/usr/bin/chromium',
  args: ['--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const categories = ['performance', 'accessibility', 'best-practices'];
const rows = [];

async function audit(view, url, keepStorage) {
  const page = await browser.newPage();
  const flags = { onlyCategories: categories, output: 'json', logLevel: 'error', disableStorageReset: keepStorage };
  const result = await lighthouse(url, flags, undefined, page);
  const scores = categories.map((c) => Math.round(result.lhr.categories[c].score * 100));
  rows.push([view, ...scores]);
  for (const audit of Object.values(result.lhr.audits)) {
    if (audit.score !== null && audit.score < 0.9 && audit.scoreDisplayMode !== 'informative') {
      console.error(`  ${view}: ${audit.id} ${audit.score} ${audit.displayValue ?? ''}`);
    }
  }
  await page.close();
}

await audit('sign-in', `${base}/app/`, false);

// Sign up in the page, then give it a conversation to show.
const page = await browser.newPage();
await page.goto(`${base}/app/`);
await page.type('#signin-name', `lighthouse${Date.now() % 100000}`);
await page.type('#signin-password', 'correct horse');
await page.click('button[value=register]');
await page.waitForSelector('#chat:not([hidden])');
const channel = await page.evaluate(async () => {
  const headers = { Authorization: `Bearer ${localStorage.getItem('azuma.token')}`, 'Content-Type': 'application/json' };
  const post = (path, body) => fetch(path, { method: 'POST', headers, body: JSON.stringify(body) }).then((r) => r.json());
  const { id } = await post('/channel', { name: 'general' });
  for (let n = 1; n <= 30; n++) await post('/message/send', { channel: id, content: `Message number ${n}, to fill the log.` });
  return id;
});
await page.close();
await audit('conversation', `${base}/app/#/c/${channel}`, true);
await browser.close();

console.log(`| view | ${categories.join(' | ')} |`);
console.log(`|---|${categories.map(() => '---').join('|')}|`);
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
