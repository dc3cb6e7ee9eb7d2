// Debian's Chromium driven by playwright-core (never a downloaded browser), with the
// flags the design brief lists: no background traffic, and for WebGPU the SwiftShader
// adapter. Every console error and page error is collected so a test can fail on it.

import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const QUIET = ['--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const WEBGPU = ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--enable-unsafe-webgpu'];

export async function launch({ webgpu = false } = {}) {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium (make web-setup runs apt-get install -y chromium)`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...QUIET, ...(webgpu ? WEBGPU : [])] });
}

/** Open url in a fresh page; returns { page, problems } where problems collects console errors and page errors. */
export async function openPage(browser, url, { width = 1280, height = 800 } = {}) {
  const page = await browser.newPage({ viewport: { width, height } });
  const problems = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console.error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()} (${req.failure()?.errorText})`));
  await page.goto(url);
  await page.waitForFunction(() => window.orientReady === true, null, { timeout: 120_000 });
  return { page, problems };
}
