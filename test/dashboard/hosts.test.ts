/** Issue 18 item 13: the dashboard answers only Host headers naming loopback, the bound address or an allowed name (DNS rebinding). */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Experiment } from '../../src/core/experiment.js';
import { hostName, hostPolicy } from '../../src/dashboard/hosts.js';
import { startDashboard, type Dashboard } from '../../src/dashboard/server.js';
import { openStore } from '../../src/store/index.js';
import { RandomStrategy } from '../../src/strategy/index.js';

function get(url: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, { headers: { host } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    }).on('error', reject);
  });
}

describe('dashboard Host allow-list (issue 18.13)', () => {
  let dir: string;
  let dash: Dashboard;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-hosts-'));
    const store = openStore(`sqlite:${path.join(dir, 'runs.db')}`);
    await Experiment.open({ store, name: 'h', strategy: new RandomStrategy(), space: { params: { x: { type: 'float', low: 0, high: 1 } } }, seed: 1 })
      .optimize((t) => t.params.x as number, { nTrials: 2 });
    store.close();
    dash = await startDashboard({ file: path.join(dir, 'runs.db'), port: 0, allowHosts: ['tsnas.lan'] });
    expect(await dash.ready()).toBe(true);
  });
  afterAll(async () => {
    await dash?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a rebinding name gets 403 on every route; loopback names, the bound address and --allow-host names are answered', async () => {
    const port = new URL(dash.url).port;
    for (const route of ['/', '/api/data', '/echarts.min.js', '/nosuch']) {
      const r = await get(`${dash.url}${route.slice(1)}`, `evil.example:${port}`);
      expect(r.status, route).toBe(403);
      expect(r.body).toMatch(/^tsnas dashboard: Host "evil\.example:\d+" is not allowed \(DNS rebinding guard\)/);
      expect(r.body).not.toMatch(/trials|<html/);
    }
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'LOCALHOST', `[::1]:${port}`, '127.0.0.2', `tsnas.lan:${port}`]) {
      const r = await get(`${dash.url}api/data`, host);
      expect(r.status, host).toBe(200);
      expect(JSON.parse(r.body).totalTrials).toBe(2);
    }
    for (const host of ['localhost.evil.example', '127.0.0.1.evil.example', 'tsnas.lan.evil.example', '[::2]']) {
      expect((await dash.app.inject({ url: '/api/data', headers: { host } })).statusCode, host).toBe(403);
    }
  });

  it('parses Host values and, bound to all interfaces, accepts this machine\'s own addresses only', () => {
    expect(hostName('Example.COM.:8080')).toBe('example.com');
    expect(hostName('[::1]:80')).toBe('::1');
    expect(hostName('[::1')).toBe('');
    expect(hostName(undefined)).toBe('');
    const own = Object.values(os.networkInterfaces()).flat().map((a) => a!.address);
    const wild = hostPolicy('0.0.0.0');
    for (const a of own) expect(wild(a.includes(':') ? `[${a}]:1` : `${a}:1`), a).toBe(true);
    expect(wild('203.0.113.9')).toBe(false);
    expect(wild('0.0.0.0')).toBe(true);
    expect(hostPolicy('192.0.2.7')('192.0.2.7:8080')).toBe(true);
    expect(hostPolicy('192.0.2.7')('rebind.example:8080')).toBe(false);
  });
});
