/**
 * The report's page script is typed TS (src/report/browser/) bundled by esbuild into the committed
 * src/report/client.ts: that file must be what the sources bundle to today, and safe to inline.
 * (The browser tests, report.browser.test.ts and the dashboard's, run the bundle in Chromium.)
 */
import { describe, expect, it } from 'vitest';
import { bundleClient, clientModule, CLIENT_MODULE } from '../../scripts/bundle-client.js';
import { CLIENT_JS } from '../../src/report/client.js';
import { renderPage } from '../../src/report/html.js';
import fs from 'node:fs';

describe('report page script bundle', () => {
  it('src/report/client.ts is the bundle of src/report/browser/ (else run npm run build:client)', async () => {
    const js = await bundleClient();
    expect(fs.readFileSync(CLIENT_MODULE, 'utf8') === clientModule(js), 'src/report/client.ts is stale: run npm run build:client').toBe(true);
    expect(CLIENT_JS).toBe(js);
  });

  it('is one strict-mode script that cannot end its <script> element, inlined by the page', () => {
    expect(CLIENT_JS.startsWith('"use strict";\n(() => {')).toBe(true);
    expect(CLIENT_JS).not.toMatch(/<\/script/i);
    expect(CLIENT_JS).not.toMatch(/^\s*(import|export)\s/m);
    const page = renderPage({ title: 't', storage: 'memory:', generatedAt: '', costPerHour: null, totalTrials: 0, experiments: [] }, { echartsSrc: 'e.js' });
    expect(page).toContain(`<script>${CLIENT_JS}</script>`);
  });
});
