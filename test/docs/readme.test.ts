/** README.md's library examples run as written (imports pointed at the sources) and do what the text says. */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { cliAsync, ROOT } from '../helpers/cli.js';
import { againstSources, loadWithPlainTf, readmeExamples } from './readme-examples.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-readme-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function runModule(file: string, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const child = spawn(process.execPath, ['--import', tsx, file], { cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('README.md', () => {
  const examples = readmeExamples();

  it('has the two library examples and stays under 15 KB', () => {
    expect(examples).toHaveLength(2);
    expect(fs.statSync(path.join(ROOT, 'README.md')).size).toBeLessThan(15 * 1024);
    // exactly two set-up commands at the top
    const top = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8').split('```')[1]!.trim().split('\n');
    expect(top).toEqual(['sh', expect.stringMatching(/^npm ci && node dist\/cli\/main\.js search /), 'npm test']);
  });

  it('quick start: define-by-run TPE with a median pruner finds x near 2', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'quick-'));
    fs.writeFileSync(path.join(dir, 'example.mjs'), againstSources(examples[0]!.code));
    const r = await runModule('example.mjs', dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const m = /best x=(-?[\d.]+) n=(\d+): ([\d.]+)/.exec(r.stdout);
    expect(m).not.toBeNull();
    expect(Math.abs(Number(m![1]) - 2)).toBeLessThan(1.5);
    const t = await cliAsync(['trials', '--storage', `sqlite:${path.join(dir, 'study.db')}`]);
    expect(t.stdout).toMatch(/PRUNED/); // the pruner stopped some trials
  }, 120_000);

  it('library NAS: searches its own space, saves the best, and plain tf.loadLayersModel reads it', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'nas-'));
    fs.writeFileSync(path.join(dir, 'example.mjs'), againstSources(examples[1]!.code));
    const r = await runModule('example.mjs', dir);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/already registered/);
    expect(r.stdout).toMatch(/best \{ stages: \d, filters: \d+, kernel: \d \} validation accuracy 0\.\d+/);
    const acc = Number(/test accuracy ([\d.]+)/.exec(r.stdout)?.[1]);
    expect(acc).toBeGreaterThan(0.65); // 2 epochs on 1,000 MNIST digits (0.78 measured); chance is 0.1
    const model = await loadWithPlainTf(tf, path.join(dir, 'my-model'));
    const y = model.predict(tf.zeros([2, 28, 28, 1])) as tf.Tensor;
    expect(y.shape).toEqual([2, 10]);
    const sums = (await y.sum(1).data()) as Float32Array;
    for (const s of sums) expect(s).toBeCloseTo(1, 4); // softmax output
    const genotype = JSON.parse(fs.readFileSync(path.join(dir, 'my-model', 'genotype.json'), 'utf8'));
    expect(genotype.space).toBe('my-convnet');
  }, 300_000);
});
