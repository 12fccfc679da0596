'use strict';
/**
 * The browser side of the e2e tests, one long-lived process per test module:
 * - serves the Web Chat page and Web Chat's own dist/webchat.js from node_modules,
 * - runs the Direct Line emulator (directline.js) the page and the bot talk through,
 * - drives headless Chromium with playwright-core, on commands pytest sends as JSON to
 *   POST /e2e/<command>; each answers {ok: true, ...} or {ok: false, error} (status 500).
 *
 * Everything listens on 127.0.0.1. Usage:
 *   node driver.js --port 0 --bot http://127.0.0.1:3978/api/messages --artifacts DIR [--chromium PATH]
 *                  [--stop-with-me PID]   (SIGTERM to PID if pytest dies without stopping us)
 * It prints one JSON line {"ready": true, "url": ...} when it can take commands.
 */

const fs = require('fs');
const path = require('path');
const http = require('http');
const express = require('express');
const { chromium } = require('playwright-core');
const { mountDirectLine, tokenFor } = require('./directline');

function parseArgs(argv) {
  const args = { port: '0', chromium: '/usr/bin/chromium', artifacts: path.join(__dirname, '..', 'artifacts'), 'stop-with-me': '' };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in args) && key !== 'bot') throw new Error(`unknown option ${argv[i]}`);
    args[key] = argv[i + 1];
  }
  if (!args.bot) throw new Error('--bot URL is required');
  return args;
}

const args = parseArgs(process.argv.slice(2));
const WEBCHAT_JS = path.join(__dirname, '..', 'node_modules', 'botframework-webchat', 'dist', 'webchat.js');
const PAGE = path.join(__dirname, 'webchat.html');
fs.mkdirSync(args.artifacts, { recursive: true });
const trafficLog = fs.createWriteStream(path.join(args.artifacts, 'directline.jsonl'), { flags: 'a' });
const log = (entry) => trafficLog.write(JSON.stringify({ at: new Date().toISOString(), ...entry }) + '\n');

// --- what the tests read in the page ------------------------------------------------------

/**
 * Installed in every page (as window.e2e): reads the transcript as the user sees it from
 * Web Chat's DOM. One entry per activity: who sent it, its visible text (its bubbles, cards
 * included, without the screen-reader labels), its cards' text, its card buttons and its
 * bubbles' HTML. `plain` is the text with typographic quotes made straight (Web Chat's
 * markdown renders "I'm" as "I’m") and every run of white space made one space (a card's
 * layout puts line breaks and tabs between its parts), which is what waiting for a text
 * compares with.
 */
function installPageHelpers() {
  const straight = (text) =>
    text.replace(/[\u2018\u2019]/g, "'").replace(/[\u201c\u201d]/g, '"').replace(/[\s\u200b]+/g, ' ').trim();
  const fromUser = (item) => !!item.querySelector('.webchat__stacked-layout--from-user, .webchat__bubble--from-user');
  const textOf = (element) => (element.innerText || '').trim();
  function transcript() {
    return Array.from(document.querySelectorAll('.webchat__basic-transcript__activity')).map((item, index) => {
      const bubbles = Array.from(item.querySelectorAll('.webchat__bubble__content'));
      const text = bubbles.map(textOf).join('\n');
      return {
        index,
        from: fromUser(item) ? 'user' : 'bot',
        text,
        plain: straight(text),
        cards: Array.from(item.querySelectorAll('.ac-adaptiveCard')).map(textOf),
        buttons: Array.from(item.querySelectorAll('.ac-adaptiveCard button')).map(textOf),
        html: bubbles.map((b) => b.innerHTML).join('\n'),
      };
    });
  }
  /**
   * How many activities from `who` ('bot' or 'user') show `text` (compared as `plain` on both
   * sides) and, if `button` is given, have a card button with that title.
   */
  function matches(who, text, button) {
    const wanted = straight(text);
    return transcript().filter(
      (entry) => entry.from === who && entry.plain.includes(wanted) && (!button || entry.buttons.includes(button)),
    ).length;
  }
  /** True once the transcript is scrolled to its end (Web Chat scrolls with an animation). */
  function scrolledToEnd() {
    const scrollable = document.querySelector('.webchat__basic-transcript__scrollable');
    return !scrollable || scrollable.scrollHeight - scrollable.scrollTop - scrollable.clientHeight < 2;
  }
  window.e2e = { transcript, matches, scrolledToEnd };
}

// --- the browser --------------------------------------------------------------------------

let browser = null;
const pages = new Map();
let nextPageId = 1;

function pageOf(body) {
  const entry = pages.get(body.page);
  if (!entry) throw new Error(`no open page ${body.page}`);
  return entry;
}

const commands = {
  /** Open Web Chat as a new user in a fresh browser context; resolve once the send box is there. */
  async open({ user, name = 'Ada', timezone = 'Europe/Prague', width = 900, height = 1000, timeoutMs: timeout = 30000 }) {
    const context = await browser.newContext({
      viewport: { width, height },
      deviceScaleFactor: 1,
      locale: 'en-US',
      timezoneId: timezone,
    });
    await context.addInitScript(installPageHelpers);
    const page = await context.newPage();
    const consoleLines = [];
    page.on('console', (message) => consoleLines.push(`${message.type()}: ${message.text()}`));
    page.on('pageerror', (error) => consoleLines.push(`pageerror: ${error.message}`));
    const query = new URLSearchParams({ token: tokenFor({ id: user, name }), user, name });
    await page.goto(`${baseUrl}/?${query}`, { timeout });
    await page.locator('[data-id="webchat-sendbox-input"]').waitFor({ state: 'visible', timeout });
    const id = String(nextPageId++);
    pages.set(id, { context, page, consoleLines });
    return { page: id };
  },

  /** Type `text` into the send box and send it with Enter, as a user would. */
  async say(body) {
    const { page } = pageOf(body);
    const before = await page.evaluate((text) => window.e2e.matches('user', text), body.text);
    const input = page.locator('[data-id="webchat-sendbox-input"]');
    await input.click();
    await input.fill(body.text);
    await input.press('Enter');
    // The user's own bubble shows once Web Chat has taken the message.
    await page.waitForFunction(
      ({ text, before }) => window.e2e.matches('user', text) > before,
      { text: body.text, before },
      { timeout: body.timeoutMs || 10000, polling: 50 },
    );
    return {};
  },

  /**
   * Wait until at least `count` bot activities show `text` (and have a card button called
   * `button`, if given); answer with the transcript and
   * the time (epoch ms, read in the page as it polls every 50 ms) the last of them first showed.
   */
  async wait(body) {
    const { page } = pageOf(body);
    const handle = await page.waitForFunction(
      ({ text, count, button }) => (window.e2e.matches('bot', text, button) >= count ? Date.now() : false),
      { text: body.text, count: body.count || 1, button: body.button || null },
      { timeout: body.timeoutMs || 10000, polling: 50 },
    );
    const seenAt = await handle.jsonValue();
    return { seenAt, transcript: await page.evaluate(() => window.e2e.transcript()) };
  },

  async transcript(body) {
    const { page } = pageOf(body);
    return { transcript: await page.evaluate(() => window.e2e.transcript()) };
  },

  /** Click the card button called `button` on the last activity that shows `on` and has that button. */
  async click(body) {
    const { page } = pageOf(body);
    const button = page.getByRole('button', { name: body.button, exact: true });
    const activity = page
      .locator('.webchat__basic-transcript__activity')
      .filter({ hasText: body.on })
      .filter({ has: button })
      .last();
    await activity.getByRole('button', { name: body.button, exact: true }).click({ timeout: body.timeoutMs || 10000 });
    return {};
  },

  async screenshot(body) {
    const { page } = pageOf(body);
    fs.mkdirSync(path.dirname(body.path), { recursive: true });
    // Let Web Chat finish scrolling to the newest activity; shoot anyway if it never settles.
    await page.waitForFunction(() => window.e2e.scrolledToEnd(), null, { timeout: 3000, polling: 100 }).catch(() => {});
    await page.screenshot({ path: body.path, fullPage: !!body.fullPage, animations: 'disabled', caret: 'hide' });
    return { path: body.path };
  },

  /** The page's console (Web Chat's warnings land there). */
  async console(body) {
    return { lines: pageOf(body).consoleLines };
  },

  async close(body) {
    const entry = pages.get(body.page);
    if (entry) {
      pages.delete(body.page);
      await entry.context.close();
    }
    return {};
  },
};

// --- the server ---------------------------------------------------------------------------

const app = express();
let baseUrl = null;

app.get('/', (req, res) => res.sendFile(PAGE));
app.get('/webchat.js', (req, res) => res.sendFile(WEBCHAT_JS));
app.get('/favicon.ico', (req, res) => res.status(204).end());
app.get('/e2e/health', (req, res) => res.json({ ok: true, browser: browser ? browser.version() : null }));
app.post('/e2e/:command', express.json(), async (req, res) => {
  const command = commands[req.params.command];
  if (!command) {
    res.status(404).json({ ok: false, error: `unknown command ${req.params.command}` });
    return;
  }
  try {
    res.json({ ok: true, ...(await command(req.body || {})) });
  } catch (error) {
    res.status(500).json({ ok: false, error: String((error && error.stack) || error) });
  }
});

const server = http.createServer(app);

let stopping = false;
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  // Never outlive a stop request: whatever hangs, exit within 10 s.
  setTimeout(() => process.exit(code), 10000).unref();
  try {
    if (browser) await browser.close();
  } catch (error) {
    log({ event: 'browser-close-failed', error: String(error) });
  }
  server.close();
  trafficLog.end(() => process.exit(code));
}

process.on('SIGTERM', () => shutdown(0));
process.on('SIGINT', () => shutdown(0));
// The browser-side work must never take the whole emulator down; log and carry on.
process.on('unhandledRejection', (error) => log({ event: 'unhandled-rejection', error: String(error) }));
// If pytest dies without stopping us (kill -9), don't leave a browser behind, nor the bot
// process pytest started for us (--stop-with-me PID), which has no such watch of its own.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid === parentPid) return;
  if (args['stop-with-me']) {
    try {
      process.kill(Number(args['stop-with-me']), 'SIGTERM');
    } catch (error) {
      // already gone
    }
  }
  shutdown(0);
}, 1000).unref();

server.listen(Number(args.port), '127.0.0.1', async () => {
  baseUrl = `http://127.0.0.1:${server.address().port}`;
  mountDirectLine(app, { baseUrl, botUrl: args.bot, log });
  try {
    // This process owns the browser's shutdown (Playwright's own signal handlers would race it).
    browser = await chromium.launch({
      executablePath: args.chromium,
      headless: true,
      timeout: 60000,
      handleSIGTERM: false,
      handleSIGINT: false,
      handleSIGHUP: false,
    });
  } catch (error) {
    process.stdout.write(JSON.stringify({ ready: false, error: String(error) }) + '\n');
    await shutdown(1);
    return;
  }
  process.stdout.write(JSON.stringify({ ready: true, url: baseUrl, chromium: browser.version() }) + '\n');
});
