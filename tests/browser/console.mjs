// tests/browser/console.mjs - drive the operator's console (/ui/) in headless Chromium.
//
// Run by tests/e2e/test_console_browser.py against a real gateway; by hand:
//   HG_UI_URL=http://127.0.0.1:PORT/ui/ HG_TOKEN=... HG_SEND=./send.sh HG_BAD=./bad.sh \
//   HG_ARTIFACTS=/tmp/shots node tests/browser/console.mjs
// HG_SEND: a script that POSTs one valid signed event and prints its seq;
// HG_BAD: one that sends a request with a wrong signature; HG_ARTIFACTS: where
// the screenshots (signin/events/event/rejected/sinks/send.png) and each page's
// HTML (*.html) go. Optional: HG_CHROMIUM (default /usr/bin/chromium),
// HG_UI_TIMEOUT_MS (default 20000, for each wait).
// Prints "ok - CHECK" per check; on the first failure "FAIL - CHECK: why" (with
// failure.png and failure.html) and exits 1. Also prints "REPLAYED <seq> <sink>" and
// "SENT <seq>" for the caller, which checks the sink's side of it.
// Any console error or uncaught exception in the page fails the run: a CSP
// violation (an inline style or script) shows up there.
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

function need(name) {
  const v = process.env[name];
  if (!v) {
    console.log(`FAIL - environment: ${name} is not set`);
    process.exit(2);
  }
  return v;
}
const UI = need('HG_UI_URL');
const TOKEN = need('HG_TOKEN');
const SEND = need('HG_SEND');
const BAD = need('HG_BAD');
const ART = need('HG_ARTIFACTS');
const CHROMIUM = process.env.HG_CHROMIUM || '/usr/bin/chromium';
const T = Number(process.env.HG_UI_TIMEOUT_MS || 20000);
fs.mkdirSync(ART, { recursive: true });

let browser, page, step = 'start';
const problems = [];
// expected: the first GET /api/session before signing in and the one after signing out
// answer 401, and so does the login with a wrong token; the browser logs each as an error
const expected401 = (m) => /status of 401/.test(m.text()) &&
  (/\/api\/session$/.test(m.location().url || '') || (step === WRONG && /\/api\/login$/.test(m.location().url || '')));
const WRONG = 'a wrong token is refused';

function run(cmd) {
  return execFileSync(cmd, { encoding: 'utf8', timeout: 30000, stdio: ['ignore', 'pipe', 'inherit'] });
}
async function save(name) {
  await page.screenshot({ path: path.join(ART, name + '.png'), fullPage: true });
  fs.writeFileSync(path.join(ART, name + '.html'), await page.content());
}
function checkConsole() {
  if (problems.length) throw new Error('the page logged errors:\n  ' + problems.join('\n  '));
}
async function check(name, fn) {
  step = name;
  await fn();
  checkConsole();
  console.log('ok - ' + name);
}
const visible = (sel) => page.locator(sel).waitFor({ state: 'visible', timeout: T });
async function textOf(sel) {
  return (await page.locator(sel).first().textContent({ timeout: T })) || '';
}
async function waitText(sel, re) {
  await page.waitForFunction(([s, src, flags]) => {
    const e = document.querySelector(s);
    return !!e && new RegExp(src, flags).test(e.textContent || '');
  }, [sel, re.source, re.flags], { timeout: T });
}
async function nav(view) {
  await page.locator(`#nav a[data-view="${view}"]`).click();
  await visible(`#view-${view}`);
}

async function main() {
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true });
  const ctx = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  page = await ctx.newPage();
  page.setDefaultTimeout(T);
  page.on('console', (m) => {
    if (m.type() === 'error' && !expected401(m)) problems.push(`console error: ${m.text()} (${m.location().url || '?'})`);
  });
  page.on('pageerror', (e) => problems.push('uncaught exception: ' + (e.stack || e.message)));

  await check('the sign-in page is shown with the CSP', async () => {
    const resp = await page.goto(UI, { waitUntil: 'load' });
    if (!resp || resp.status() !== 200) throw new Error(`GET ${UI}: ${resp && resp.status()}`);
    const csp = resp.headers()['content-security-policy'] || '';
    if (!/script-src 'self'/.test(csp) || !/style-src 'self'/.test(csp)) throw new Error('no CSP on the page: ' + csp);
    await visible('#view-signin');
    await save('signin');
  });

  await check(WRONG, async () => {
    await page.fill('#token', 'not-the-token-' + Date.now());
    const r = page.waitForResponse((x) => x.url().endsWith('/api/login'));
    await page.click('#signin-btn');
    if ((await r).status() !== 401) throw new Error('login with a wrong token: ' + (await r).status());
    await waitText('#signin-msg', /wrong token/i);
  });

  await check('sign in with the token', async () => {
    await page.fill('#token', TOKEN);
    await page.click('#signin-btn');
    await visible('#view-events');
    await visible('#nav');
    await page.locator('#live:not(.off)').waitFor({ timeout: T }); // the stream is open
    const kept = await page.evaluate(() => JSON.stringify([{ ...localStorage }, { ...sessionStorage }, document.cookie]));
    if (kept.includes(TOKEN)) throw new Error('the token is kept in web storage or a script-readable cookie');
    if (/hg_session/.test(kept)) throw new Error('the session cookie is readable by scripts (not HttpOnly)');
    if ((await page.inputValue('#token')) !== '') throw new Error('the token field was not cleared');
  });

  let seq;
  await check('an event sent now appears live in the events list', async () => {
    seq = Number(run(SEND).trim().split('\n').pop());
    if (!Number.isSafeInteger(seq)) throw new Error('HG_SEND printed no seq');
    const row = page.locator(`table#events tbody tr[data-seq="${seq}"]`);
    await row.waitFor({ timeout: T });
    if ((await page.locator('table#events tbody tr').first().getAttribute('data-seq')) !== String(seq)) {
      throw new Error('the new event is not the top row');
    }
    await page.locator(`table#events tbody tr[data-seq="${seq}"].newest`).waitFor({ timeout: T });
    // the stream carries no sink states; the page fetches them: wait for "delivered"
    await row.locator('.state[data-state="delivered"]').first().waitFor({ timeout: T });
    await save('events');
  });

  let sink;
  await check(`event ${seq}: its page shows fields, envelope, headers and sinks`, async () => {
    await page.locator(`table#events tbody tr[data-seq="${seq}"] a.seq`).click();
    await visible('#view-event');
    await waitText('#ev-title', new RegExp('^' + seq + '$'));
    await page.locator('#ev-sinks tbody tr').first().waitFor({ timeout: T });
    const env = JSON.parse(await textOf('#ev-envelope'));
    if (env.hookgateseq !== seq) throw new Error('envelope hookgateseq ' + env.hookgateseq);
    await waitText('#ev-fields dd[data-field="seq"]', new RegExp('^' + seq + '$'));
    const hdrs = await page.locator('#ev-headers tbody tr').count();
    if (!hdrs) throw new Error('no request headers shown');
    // HG_SEND signed the event with X-Webhook-Signature: that row must be there, masked
    const sigRow = page.locator('#ev-headers tbody tr', { hasText: /^x-webhook-signature/i });
    const nsig = await sigRow.count();
    if (nsig !== 1) throw new Error(`${nsig} X-Webhook-Signature rows among the ${hdrs} headers shown; expected 1`);
    const sigValue = (await sigRow.locator('td.value').textContent()) || '';
    if (sigValue !== '***') throw new Error('the signature header is shown unmasked: ' + JSON.stringify(sigValue));
    sink = await page.locator('#ev-sinks tbody tr').first().getAttribute('data-sink');
    await page.locator(`#ev-sinks tbody tr[data-sink="${sink}"][data-state="delivered"]`).waitFor({ timeout: T });
  });

  await check(`replay event ${seq} to sink ${sink}: queued, then delivered again`, async () => {
    await page.locator(`#ev-sinks tbody tr[data-sink="${sink}"] button.replay`).click();
    await visible('dialog#confirm');
    const posted = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(`/api/events/${seq}/replay`));
    await page.click('#confirm-ok');
    const resp = await posted;
    if (resp.status() !== 202) throw new Error(`POST replay answered ${resp.status()}: ${await resp.text()}`);
    const body = await resp.json();
    if (!Array.isArray(body.replayed) || !body.replayed.includes(sink)) throw new Error('replay answer: ' + JSON.stringify(body));
    await waitText('#replay-msg', /Replay queued/);
    // the page polls GET /api/events/{seq} and /api/sinks; it says "delivered again"
    // once the sink is delivered and its delivered count has grown
    await page.locator(`#ev-sinks tbody tr.replayed[data-sink="${sink}"][data-state="delivered"]`).waitFor({ timeout: T });
    await page.locator('#replay-msg[data-done="yes"]').waitFor({ timeout: T });
    await waitText('#replay-msg', new RegExp(sink.replace(/[^\w]/g, '\\$&') + ': delivered again'));
    await save('event');
    console.log(`REPLAYED ${seq} ${sink}`);
  });

  await check('a request with a wrong signature is listed as rejected, with its reason', async () => {
    run(BAD);
    await nav('rejected');
    const row = page.locator('table#rejected tbody tr.rej', { has: page.locator('td.reason', { hasText: /signature/i }) }).first();
    await row.waitFor({ timeout: T });
    const st = await row.getAttribute('data-status');
    if (st !== '401') throw new Error('rejected row status ' + st);
    // HG_BAD sent headers and a body the route keeps (keep_rejected_bodies): the row
    // must have its Details, with the signature masked and the body shown
    const more = row.locator('button.expand');
    if ((await more.count()) !== 1) throw new Error('the rejected row has no Details button');
    const id = await row.getAttribute('data-id');
    const detail = page.locator(`table#rejected tr.detail[data-for="${id}"]`);
    if (await detail.isVisible()) throw new Error('the details are shown before Details is clicked');
    await more.click();
    await visible(`table#rejected tr.detail[data-for="${id}"]`);
    if ((await more.getAttribute('aria-expanded')) !== 'true') throw new Error('Details is not aria-expanded');
    const sig = detail.locator('tr', { hasText: /^x-webhook-signature/i });
    if ((await sig.count()) !== 1) throw new Error('the rejected request\'s X-Webhook-Signature header is not listed');
    const sigValue = (await sig.locator('td.value').textContent()) || '';
    if (sigValue !== '***') throw new Error('the rejected signature is shown unmasked: ' + JSON.stringify(sigValue));
    const body = (await detail.locator('pre.body').textContent()) || '';
    if (!body.includes('"evt_forged"')) throw new Error('the rejected body is not shown: ' + JSON.stringify(body.slice(0, 200)));
    await save('rejected');
  });

  await check('sinks, routes, dead letters and the three charts', async () => {
    await nav('sinks');
    await page.locator(`table#sinks tbody tr[data-sink="${sink}"]`).waitFor({ timeout: T });
    await page.locator('table#routes tbody tr').first().waitFor({ timeout: T });
    for (const id of ['chart-routes', 'chart-commit', 'chart-backlog']) {
      await page.locator(`#${id} svg.plot`).waitFor({ timeout: T });
    }
    await page.locator(`table#sinks tbody tr[data-sink="${sink}"] button.dead-open`).click();
    await visible('#dead');
    await waitText('#dead-msg', /dead letter/i);
    await save('sinks');
  });

  let seq2;
  await check('send a test event: status 200, then it is in the events list', async () => {
    await nav('send');
    await page.locator('#send-route option:not([disabled])').first().waitFor({ state: 'attached', timeout: T });
    await page.click('#send-btn');
    await page.locator('#send-status[data-status]').waitFor({ timeout: T });
    const st = await page.getAttribute('#send-status', 'data-status');
    if (st !== '200') throw new Error(`send-test: status ${st}: ${await textOf('#send-status')} ${await textOf('#send-answer')}`);
    await visible('#send-link');
    seq2 = Number(await page.getAttribute('#send-link', 'data-seq'));
    await save('send');
    await nav('events');
    await page.locator(`table#events tbody tr[data-seq="${seq2}"]`).waitFor({ timeout: T });
    console.log(`SENT ${seq2}`);
  });

  await check('sign out ends the session', async () => {
    await page.click('#signout');
    await visible('#view-signin');
    await page.reload({ waitUntil: 'load' });
    await visible('#view-signin');
    const r = await page.request.get(new URL('/api/events', UI).toString());
    if (r.status() !== 401) throw new Error('GET /api/events after sign-out: ' + r.status());
  });
}

try {
  await main();
  console.log('all checks passed');
  await browser.close();
} catch (e) {
  console.log(`FAIL - ${step}: ${e && e.message ? e.message.split('\n').slice(0, 12).join('\n') : e}`);
  try {
    if (page) {
      await page.screenshot({ path: path.join(ART, 'failure.png'), fullPage: true });
      fs.writeFileSync(path.join(ART, 'failure.html'), await page.content());
    }
  } catch (e2) { /* the page is gone */ }
  if (browser) await browser.close().catch(() => {});
  process.exit(1);
}
