// Debian's Chromium driven by playwright-core (never a downloaded browser), with the
// flags the design brief lists: no background traffic, and WebGL (and, when asked,
// WebGPU) on SwiftShader, opted into explicitly with --use-angle=swiftshader
// --enable-unsafe-swiftshader rather than through Chromium's automatic fallback to
// software WebGL, which it reports as deprecated. Every console error, page error,
// failed request, Content-Security-Policy violation and that deprecation warning is
// collected so a test can fail on it.

import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const QUIET = ['--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
export const SOFTWARE_GL = ['--use-angle=swiftshader', '--enable-unsafe-swiftshader'];
const WEBGPU = ['--enable-unsafe-webgpu'];
// Chromium's console warning when a page gets software WebGL without the flag above.
export const SOFTWARE_FALLBACK_WARNING = /fallback to software WebGL has been deprecated|--enable-unsafe-swiftshader/i;

export async function launch({ webgpu = false } = {}) {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium (make web-setup runs apt-get install -y chromium)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // playwright-core 1.65 happens to add --enable-unsafe-swiftshader to its own default
    // switches; SOFTWARE_GL states it here so the tests do not depend on that. (Its
    // ignoreDefaultArgs would filter our copy of the flag too: it is not used.)
    args: [...QUIET, ...SOFTWARE_GL, ...(webgpu ? WEBGPU : [])],
  });
}

/**
 * Open url in a fresh page and wait for it to boot; returns { page, problems, responses }:
 * problems collects console errors, page errors, failed requests and CSP violations;
 * responses every HTTP response the page received.
 */
export async function openPage(browser, url, { width = 1280, height = 800 } = {}) {
  const page = await browser.newPage({ viewport: { width, height } });
  const problems = [];
  const responses = [];
  page.on('response', (r) => responses.push(r));
  // Chromium logs a CSP violation as a console error (caught below); the page's
  // securitypolicyviolation event is reported as well, so a violation fails a test even
  // if that console message were to change. (The binding and the init script are CDP's,
  // not the page's, so the policy does not apply to them.)
  await page.exposeFunction('__orientReportCspViolation', (v) => problems.push(`CSP violation: ${v}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__orientReportCspViolation(`${e.effectiveDirective} refused ${e.blockedURI || '(none)'} at ${e.sourceFile || '?'}:${e.lineNumber} (${e.disposition})`);
    });
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console.error: ${msg.text()}`);
    else if (msg.type() === 'warning' && SOFTWARE_FALLBACK_WARNING.test(msg.text())) problems.push(`console.warning: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()} (${req.failure()?.errorText})`));
  await page.goto(url);
  await page.waitForFunction(() => window.orientReady === true, null, { timeout: 120_000 });
  return { page, problems, responses };
}
