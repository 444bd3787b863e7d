/**
 * The static report in headless Chromium: every view of every experiment is drawn from the file
 * alone (no network: all other requests are aborted and counted), counts match the store.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeReport } from '../../src/report/index.js';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/core/store.js';
import { artifact, openBrowser, paintedPixels, type Browser } from './browser.js';
import { buildFixture } from './fixtures.js';

describe('tsnas report in a browser', () => {
  let dir: string;
  let store: Store;
  let browser: Browser;
  let out: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-report-'));
    store = openStore(`sqlite:${path.join(dir, 'runs.db')}`);
    await buildFixture(store);
    out = path.join(dir, 'report.html');
    await writeReport(store, out, { storage: 'sqlite:runs.db', costPerHour: 2.5 });
    browser = await openBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is one self-contained file with every view populated', async () => {
    const html = fs.readFileSync(out, 'utf8');
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).not.toMatch(/<link[^>]+href=/);
    const { page } = browser;
    const external: string[] = [];
    await page.route(/^(?!file:|data:|about:)/, (route) => {
      external.push(route.request().url());
      return route.abort();
    });
    await page.goto(`file://${out}`);
    await page.waitForSelector('body[data-rendered]');

    const exps = store.listExperiments();
    const total = exps.reduce((a, e) => a + store.getTrials(e.id).length, 0);
    expect(total).toBe(230);
    expect(await page.textContent('#total-trials')).toBe(String(total));
    expect(await page.locator('#totals tbody tr').count()).toBe(exps.length);
    // Cost column: billed simulated GPU-hours x 2.5.
    const first = store.getTrials(exps[0]!.id);
    const sim = first.reduce((a, t) => a + t.cost.simulatedSeconds, 0);
    expect(await page.textContent('#totals tbody tr:first-child td:last-child')).toBe(((sim / 3600) * 2.5).toFixed(2));

    // Anytime overlay: one line per experiment.
    expect(await paintedPixels(page, '#chart-anytime')).toBeGreaterThan(2000);
    const legend = await page.evaluate(() => {
      const c = (window as unknown as { echarts: { getInstanceByDom(e: Element): { getOption(): { series: { name: string }[] } } } }).echarts;
      return c.getInstanceByDom(document.getElementById('chart-anytime')!).getOption().series.map((s) => s.name);
    });
    expect(legend).toEqual(exps.map((e) => `${e.name} (${e.config.strategy.name})`));

    for (const e of exps) {
      await page.selectOption('#exp-select', String(e.id));
      const n = store.getTrials(e.id).length;
      expect(await page.textContent('#trial-count')).toBe(String(n));
      // The trial table is virtual: rows in view are in the DOM, spacers stand for the rest, so the
      // table is as tall as n rows.
      const rows = await page.evaluate(() => {
        const trs = Array.from(document.querySelectorAll<HTMLElement>('#trials tbody tr'));
        const rowH = trs.find((t) => t.classList.contains('row'))!.getBoundingClientRect().height;
        return { inDom: trs.filter((t) => t.classList.contains('row')).length, asTall: Math.round(trs.reduce((a, t) => a + t.getBoundingClientRect().height, 0) / rowH) };
      });
      expect(rows.asTall).toBe(n);
      expect(rows.inDom).toBeLessThanOrEqual(n);
      expect(rows.inDom).toBeGreaterThan(Math.min(n, 10));
      expect(await paintedPixels(page, '#chart-importance')).toBeGreaterThan(1000);
      expect(await paintedPixels(page, '#chart-pareto')).toBeGreaterThan(1000);
      expect(await paintedPixels(page, '#chart-parallel')).toBeGreaterThan(1000);
      expect(await paintedPixels(page, '#chart-cost')).toBeGreaterThan(1000);
      // Architecture: the NB201 cell, 4 nodes, edges for every op but 'none'.
      expect(await page.locator('#arch svg rect[rx]').count()).toBe(4);
      const best = (await page.textContent('#exp-best'))!;
      const params = JSON.parse(best.slice(best.indexOf('{')));
      const labels = await page.locator('#arch svg text.edge-label').allTextContents();
      expect(labels.sort()).toEqual(Object.values(params).filter((op) => op !== 'none').sort());
      if (e.name === 'nb201-lc') {
        expect(await paintedPixels(page, '#chart-lc')).toBeGreaterThan(1000);
        const series = await page.evaluate(() => {
          const c = (window as unknown as { echarts: { getInstanceByDom(e: Element): { getOption(): { series: { name: string }[] } } } }).echarts;
          return c.getInstanceByDom(document.getElementById('chart-lc')!).getOption().series.map((s) => s.name);
        });
        const pruned = store.getTrials(e.id).filter((t) => t.state === 'PRUNED').length;
        expect(pruned).toBeGreaterThan(0);
        expect(series.filter((s) => s.endsWith(' pruned'))).toHaveLength(pruned);
        expect(series.some((s) => s.endsWith(' predicted'))).toBe(true);
        await page.screenshot({ path: artifact('report-lc.png'), fullPage: true });
      } else {
        expect(await page.locator('#chart-lc p.empty').count()).toBe(1);
      }
      if (e.name === 'nb201-acc-vs-flops') {
        expect(await page.textContent('#pareto-title')).toBe('Pareto front');
        await page.screenshot({ path: artifact('report-pareto.png'), fullPage: true });
      }
    }
    await page.selectOption('#exp-select', String(exps[0]!.id));
    await page.screenshot({ path: artifact('report.png'), fullPage: true });
    expect(browser.errors).toEqual([]);
    expect(external).toEqual([]);
  });
});
