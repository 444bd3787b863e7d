/**
 * Writing small PNG/JPEG images and synthetic class-per-folder image datasets, for tests and
 * demos of `loadImageFolder`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { Rng } from '../util/rng.js';

export interface RawImage {
  width: number;
  height: number;
  /** 1 (gray), 3 (RGB) or 4 (RGBA) */
  channels: 1 | 3 | 4;
  /** Row-major HWC pixels: bytes 0..255, or floats in [0, 1] (a Float32Array). */
  data: Uint8Array | Float32Array;
}

function toRgba(img: RawImage): Buffer {
  const n = img.width * img.height;
  if (img.data.length !== n * img.channels) {
    throw new Error(`image data has ${img.data.length} values, ${img.width}x${img.height}x${img.channels} needs ${n * img.channels}`);
  }
  const scale = img.data instanceof Float32Array ? 255 : 1;
  const byte = (v: number) => Math.max(0, Math.min(255, Math.round(v * scale)));
  const out = Buffer.alloc(n * 4);
  for (let p = 0; p < n; p++) {
    const c = img.channels;
    const r = byte(img.data[p * c]!);
    out[4 * p] = r;
    out[4 * p + 1] = c === 1 ? r : byte(img.data[p * c + 1]!);
    out[4 * p + 2] = c === 1 ? r : byte(img.data[p * c + 2]!);
    out[4 * p + 3] = c === 4 ? byte(img.data[p * c + 3]!) : 255;
  }
  return out;
}

export function encodePng(img: RawImage): Buffer {
  const png = new PNG({ width: img.width, height: img.height });
  toRgba(img).copy(png.data);
  return PNG.sync.write(png);
}

export function encodeJpeg(img: RawImage, quality = 95): Buffer {
  return jpeg.encode({ width: img.width, height: img.height, data: toRgba(img) }, quality).data;
}

/** Write an image; the format follows the extension (.png, .jpg/.jpeg). */
export function writeImage(path: string, img: RawImage): void {
  const lower = path.toLowerCase();
  if (lower.endsWith('.png')) writeFileSync(path, encodePng(img));
  else if (lower.endsWith('.jpg') || lower.endsWith('.jpeg')) writeFileSync(path, encodeJpeg(img));
  else throw new Error(`writeImage: ${path} must end in .png, .jpg or .jpeg`);
}

export interface SyntheticImageFolderOptions {
  /** Number of classes (default 3); folders are named class0, class1, ... */
  classes?: number;
  /** Images per class (default 4). */
  perClass?: number;
  width?: number;
  height?: number;
  seed?: number;
  format?: 'png' | 'jpeg';
  /** Make the last image one pixel wider, to exercise the mixed-size error / the size option. */
  mixedSizes?: boolean;
  /** Pixel noise amplitude in [0, 1] (default 0.1). */
  noise?: number;
}

/**
 * Write a tiny synthetic grayscale image dataset under `dir`: class k is a bright horizontal bar
 * at a class-specific row on a dark noisy background, so classes are separable.
 * Returns the class names and written files, in the order `loadImageFolder` reads them.
 */
export function writeSyntheticImageFolder(
  dir: string,
  opts: SyntheticImageFolderOptions = {},
): { classNames: string[]; files: string[] } {
  const classes = opts.classes ?? 3;
  const perClass = opts.perClass ?? 4;
  const height = opts.height ?? 8;
  const width = opts.width ?? 8;
  const noise = opts.noise ?? 0.1;
  const ext = opts.format === 'jpeg' ? 'jpg' : 'png';
  const rng = new Rng(opts.seed ?? 0);
  const classNames = Array.from({ length: classes }, (_, k) => `class${k}`);
  const files: string[] = [];
  classNames.forEach((cls, k) => {
    mkdirSync(join(dir, cls), { recursive: true });
    const row = Math.floor(((k + 0.5) * height) / classes);
    for (let i = 0; i < perClass; i++) {
      const last = k === classes - 1 && i === perClass - 1;
      const w = opts.mixedSizes && last ? width + 1 : width;
      const data = new Float32Array(w * height);
      for (let p = 0; p < data.length; p++) {
        const base = Math.floor(p / w) === row ? 0.9 : 0.05;
        data[p] = Math.max(0, Math.min(1, base + noise * (rng.random() - 0.5)));
      }
      const path = join(dir, cls, `${String(i).padStart(3, '0')}.${ext}`);
      writeImage(path, { width: w, height, channels: 1, data });
      files.push(path);
    }
  });
  return { classNames, files };
}
