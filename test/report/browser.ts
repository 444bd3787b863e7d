/** Headless Chromium for the browser tests (Debian's chromium through playwright-core; never downloads one). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => !!p);
  for (const c of candidates) if (fs.existsSync(c)) return c;
  try {
    const p = execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim();
    if (p) return p;
  } catch {
    /* reported below */
  }
  throw new Error(
    'chromium not found (looked at $CHROMIUM_PATH, /usr/bin/chromium, PATH): the browser tests need it; install it with ' +
      '`apt-get install chromium` (.ci/run does this) or set CHROMIUM_PATH',
  );
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  errors: string[];
  dialogs: string[];
  close(): Promise<void>;
}

export async function openBrowser(): Promise<Browser> {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath(),
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync',
    ],
    viewport: { width: 1400, height: 1000 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  const dialogs: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  return {
    context,
    page,
    errors,
    dialogs,
    close: async () => {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Number of painted (non-transparent) pixels of the canvases inside `selector`. */
export async function paintedPixels(page: Page, selector: string): Promise<number> {
  return page.$eval(selector, (root) => {
    let n = 0;
    for (const c of Array.from(root.querySelectorAll('canvas'))) {
      const ctx = (c as HTMLCanvasElement).getContext('2d');
      if (!ctx || c.width === 0 || c.height === 0) continue;
      const px = ctx.getImageData(0, 0, c.width, c.height).data;
      for (let i = 3; i < px.length; i += 4) if (px[i]! > 0) n++;
    }
    return n;
  });
}

export const ARTIFACTS = path.resolve('test-artifacts');
export function artifact(name: string): string {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return path.join(ARTIFACTS, name);
}
