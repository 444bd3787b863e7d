/**
 * The live dashboard against a storage that a search (a child process) is writing: finished trials
 * appear within 2 s, charts and the architecture drawing render, hostile strings stay text, a
 * locked storage is retried, and a non-loopback bind needs an explicit --host.
 */
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Experiment } from '../../src/core/experiment.js';
import { isLoopback, resolveHost, startDashboard, type Dashboard } from '../../src/dashboard/server.js';
import { StorageReader } from '../../src/dashboard/reader.js';
import { Nb201Evaluator } from '../../src/estimate/nb201.js';
import { openStore } from '../../src/store/index.js';
import { RandomStrategy } from '../../src/strategy/index.js';
import { artifact, openBrowser, paintedPixels, type Browser } from '../report/browser.js';
import { EVIL } from '../report/fixtures.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Painted pixels of a chart, polled until above `atLeast` or 5 s have passed (then the last count). */
async function paintedWithin(page: Browser['page'], selector: string, atLeast: number): Promise<number> {
  const end = Date.now() + 5_000;
  let n = 0;
  while ((n = await paintedPixels(page, selector)) <= atLeast && Date.now() < end) await sleep(100);
  return n;
}

async function until<T>(f: () => T | null | undefined, timeoutMs: number, what: string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = f();
      if (v) return v;
    } catch (e) {
      if (/exited/.test((e as Error).message)) throw e; // the writer died: say why at once
      /* file or tables not there yet */
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('bind address policy', () => {
  it('loopback by default; a non-loopback address only when given explicitly', async () => {
    expect(isLoopback('127.0.0.1') && isLoopback('::1') && isLoopback('localhost') && isLoopback('127.1.2.3')).toBe(true);
    expect(isLoopback('0.0.0.0') || isLoopback('192.168.1.5') || isLoopback('::')).toBe(false);
    expect(resolveHost(undefined, {})).toEqual({ host: '127.0.0.1', explicit: false });
    expect(resolveHost(undefined, { TSNAS_DASHBOARD_HOST: '127.0.0.2' })).toEqual({ host: '127.0.0.2', explicit: false });
    expect(() => resolveHost(undefined, { TSNAS_DASHBOARD_HOST: '0.0.0.0' })).toThrow(/pass --host 0\.0\.0\.0 explicitly/);
    expect(resolveHost('0.0.0.0', { TSNAS_DASHBOARD_HOST: '0.0.0.0' })).toEqual({ host: '0.0.0.0', explicit: true });
    await expect(startDashboard({ file: '/nonexistent.db', host: '0.0.0.0', port: 0 })).rejects.toThrow(/refusing to bind 0\.0\.0\.0/);
  });
});

describe('storage locked by a writer', () => {
  it('answers at once while SQLITE_BUSY and shows the data within a few polls once the lock is gone', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-busy-'));
    const file = path.join(dir, 'runs.db');
    const store = openStore(`sqlite:${file}`);
    const ev = new Nb201Evaluator();
    await Experiment.open({ store, name: 'a', strategy: new RandomStrategy(), space: ev.space, spaceName: 'nb201' }).optimize(ev.objective, { nTrials: 3 });
    store.close();
    // A writer holding an exclusive lock on the WAL file: every other connection gets SQLITE_BUSY.
    const locker = new Database(file);
    locker.pragma('locking_mode = EXCLUSIVE');
    locker.prepare('INSERT INTO experiments (name, config, created_at) VALUES (?, ?, ?)').run('b', JSON.stringify({ directions: ['maximize'], strategy: { name: 'random' }, space: null, seed: 0 }), 0);
    let d: Dashboard | null = null;
    try {
      d = await startDashboard({ file, port: 0, pollMs: 300 });
      const t0 = Date.now();
      const busy = await d.app.inject({ url: '/api/data' });
      expect(busy.statusCode).toBe(204);
      const page = await d.app.inject({ url: '/' });
      expect(page.statusCode).toBe(200);
      expect(Date.now() - t0).toBeLessThan(1500);
      locker.close();
      let after = await d.app.inject({ url: '/api/data' });
      for (const end = Date.now() + 5000; after.statusCode !== 200 && Date.now() < end; ) after = await d.app.inject({ url: '/api/data' });
      expect(after.statusCode).toBe(200);
      expect(after.json().experiments.map((e: { name: string }) => e.name)).toEqual(['a', 'b']);
      expect(after.json().totalTrials).toBe(3);
      // Unchanged storage: nothing to send.
      expect((await d.app.inject({ url: `/api/data?since=${after.json().cursor}` })).statusCode).toBe(204);
    } finally {
      if (locker.open) locker.close();
      await d?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('live dashboard while a search writes the storage', () => {
  let dir: string;
  let file: string;
  let writer: ChildProcess;
  let dash: Dashboard;
  let browser: Browser;
  let reader: StorageReader;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-dash-'));
    file = path.join(dir, 'runs.db');
    writer = spawn(process.execPath, ['--import', 'tsx', path.resolve('test/dashboard/writer.ts'), file, '60', '250'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    writer.stderr!.on('data', (b: Buffer) => void (stderr += b.toString()));
    const alive = () => {
      if (writer.exitCode !== null) throw new Error(`the search process exited (${writer.exitCode}) early: ${stderr.slice(-2000)}`);
    };
    await until(() => (alive(), fs.existsSync(file)), 20_000, 'the search to create its storage');
    reader = await until(() => new StorageReader(file), 20_000, 'a readable storage');
    await until(() => reader.listExperiments()[0] && reader.getTrials(reader.listExperiments()[0]!.id).filter((t) => t.finishedAt).length >= 2, 20_000, 'two finished trials');
    browser = await openBrowser();
    dash = await startDashboard({ file, port: 0 });
  });
  afterAll(async () => {
    if (writer && writer.exitCode === null) writer.kill('SIGTERM');
    await browser?.close();
    await dash?.close();
    reader?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('shows finished trials within 2 s, renders charts and the cell, keeps hostile strings as text', async () => {
    expect(dash.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const { page } = browser;
    await page.goto(dash.url);
    await page.waitForSelector('body[data-rendered]');
    const expId = reader.listExperiments()[0]!.id;
    const latencies: number[] = [];
    const seen = new Set(reader.getTrials(expId).filter((t) => t.finishedAt !== null).map((t) => t.id));
    for (let k = 0; k < 3; k++) {
      const t = await until(() => reader.getTrials(expId).find((x) => x.finishedAt !== null && !seen.has(x.id)), 10_000, 'a newly finished trial');
      seen.add(t.id);
      await page.waitForSelector(`#trials tr[data-tid="${t.id}"].state-${t.state}`, { timeout: Math.max(1, t.finishedAt! + 2000 - Date.now()) });
      latencies.push(Date.now() - t.finishedAt!);
    }
    expect(Math.max(...latencies), `latencies from finish to row shown: ${latencies.join(', ')} ms`).toBeLessThan(2000);
    // The trial count shown is the storage's at the last refresh (the search is still running).
    const shown = Number(await page.textContent('#trial-count'));
    expect(shown).toBeGreaterThanOrEqual(seen.size);
    expect(shown).toBeLessThanOrEqual(reader.getTrials(expId).length);

    // The live page redraws on every poll (a chart may be between dispose and its next frame at any one
    // instant), so each chart must show its pixels within a few seconds rather than at one snapshot.
    expect(await paintedWithin(page, '#chart-anytime', 1000)).toBeGreaterThan(1000);
    expect(await paintedWithin(page, '#chart-lc', 1000)).toBeGreaterThan(1000);
    expect(await paintedWithin(page, '#chart-importance', 500)).toBeGreaterThan(500);
    expect(await page.locator('#arch svg rect[rx]').count()).toBe(4);
    expect(await page.locator('#arch svg polyline').count()).toBeGreaterThan(0);

    // Hostile experiment name and parameter value: shown as text, never parsed as HTML.
    expect(await page.textContent('#exp-name')).toBe(EVIL);
    expect(await page.locator('#totals tbody td', { hasText: EVIL }).count()).toBe(1);
    expect(await page.locator('#trials td', { hasText: EVIL }).count()).toBeGreaterThan(0);
    expect(await page.locator('img').count()).toBe(0);
    // ECharts tooltips are HTML: names are escaped there too (re-shown on each poll, as live updates redraw the chart).
    await page.waitForFunction(
      (evil) => {
        const node = document.getElementById('chart-anytime')!;
        if (node.innerText.includes(evil)) return true;
        const ec = (window as unknown as { echarts: { getInstanceByDom(e: Element): { dispatchAction(a: object): void } } }).echarts;
        ec.getInstanceByDom(node).dispatchAction({ type: 'showTip', seriesIndex: 0, dataIndex: 0 });
        return false;
      },
      EVIL,
      { timeout: 5000, polling: 100 },
    );
    expect(await page.locator('img').count()).toBe(0);
    await page.screenshot({ path: artifact('dashboard.png'), fullPage: true });
    expect(browser.dialogs).toEqual([]);
    expect(browser.errors).toEqual([]);
  });
});
