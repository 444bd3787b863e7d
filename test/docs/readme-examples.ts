/** The README's JavaScript examples, as extracted by the README tests (so they cannot rot). */
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../helpers/cli.js';

export interface Example {
  /** 1-based line of the block's opening fence in README.md. */
  line: number;
  code: string;
}

/** Every ```js block of README.md that imports tsnas. */
export function readmeExamples(): Example[] {
  const lines = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8').split('\n');
  const out: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '```js') continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i]!.trim() !== '```'; i++) body.push(lines[i]!);
    const code = body.join('\n');
    if (/from 'tsnas(\/[a-z]+)?'/.test(code)) out.push({ line: start + 1, code });
  }
  return out;
}

/** The example with `tsnas` and `tsnas/<entry>` pointed at this checkout's sources. */
export function againstSources(code: string): string {
  const entry = (sub?: string) => path.join(ROOT, 'src', sub ? `${sub}.ts` : 'index.ts');
  return code.replace(/from 'tsnas(?:\/([a-z]+))?'/g, (_, sub?: string) => `from ${JSON.stringify(entry(sub))}`);
}

/** Loads a saved layers model with TensorFlow.js alone (no tsnas code): model.json + its weight files. */
export async function loadWithPlainTf(tf: typeof import('@tensorflow/tfjs'), dir: string) {
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  const weightSpecs = json.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights);
  const buffers = json.weightsManifest.flatMap((g: { paths: string[] }) => g.paths.map((p) => fs.readFileSync(path.join(dir, p))));
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData }));
}
