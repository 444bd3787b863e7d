/**
 * Image classification datasets from a folder with one sub-folder per class:
 *
 *   dir/cat/001.png, dir/cat/002.jpg, dir/dog/a.jpeg, ...
 *
 * Class names are the sub-folder names, sorted. Files ending in .png, .jpg or .jpeg (any case)
 * are read; other files and hidden entries are ignored. Pixels are scaled to [0, 1]; the shape is
 * [height, width, 3] (RGB, alpha dropped) or [height, width, 1] with `grayscale` (ITU-R BT.601 luma).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { assertValidDataset, type Dataset } from './dataset.js';
import { resizeImages } from './resize.js';

export interface ImageFolderOptions {
  /** Resize every image to this size ([height, width], or a square side) with the area filter. */
  size?: number | [number, number];
  /** One luma channel instead of RGB (default false). */
  grayscale?: boolean;
  /** Dataset name (default: the folder path). */
  name?: string;
}

export interface DecodedImage {
  width: number;
  height: number;
  /** RGBA, 8 bits per channel. */
  rgba: Uint8Array;
}

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);

/** Largest image decoded (width x height): a decompression bomb is refused before it is inflated. */
export const MAX_IMAGE_PIXELS = 40e6;

export class ImageTooLargeError extends Error {
  override name = 'ImageTooLargeError';
  readonly userError = true;
}

/** Decode a PNG or JPEG file to RGBA; errors name the path. */
export function decodeImageFile(path: string): DecodedImage {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new Error(`cannot read image ${path}: ${(e as Error).message}`);
  }
  const ext = extname(path).toLowerCase();
  const tooBig = (w: number, h: number) =>
    new ImageTooLargeError(`image ${path} is ${w}x${h} pixels, over the limit of ${MAX_IMAGE_PIXELS / 1e6} megapixels; downscale it first (tsnas resizes to --image-size anyway)`);
  try {
    if (ext === '.png') {
      // The size is in the IHDR chunk: checked before a small file can inflate to gigabytes.
      if (buf.length >= 24 && buf.toString('latin1', 12, 16) === 'IHDR') {
        const w = buf.readUInt32BE(16);
        const h = buf.readUInt32BE(20);
        if (w * h > MAX_IMAGE_PIXELS) throw tooBig(w, h);
      }
      const png = PNG.sync.read(buf);
      return { width: png.width, height: png.height, rgba: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.length) };
    }
    const img = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6, maxMemoryUsageInMB: 1024 });
    return { width: img.width, height: img.height, rgba: img.data };
  } catch (e) {
    if (e instanceof ImageTooLargeError) throw e;
    const m = /maxResolutionInMP limit exceeded by (\d+)MP/.exec((e as Error).message);
    if (m) throw new ImageTooLargeError(`image ${path} is over the limit of ${MAX_IMAGE_PIXELS / 1e6} megapixels; downscale it first (tsnas resizes to --image-size anyway)`);
    throw new Error(`cannot decode image ${path} (${ext.slice(1).toUpperCase()}): ${(e as Error).message}`);
  }
}

function listDir(path: string): string[] {
  return readdirSync(path)
    .filter((n) => !n.startsWith('.'))
    .sort();
}

/** Load a class-per-sub-folder image dataset (see the module comment). */
export function loadImageFolder(dir: string, opts: ImageFolderOptions = {}): Dataset {
  let stat;
  try {
    stat = statSync(dir);
  } catch {
    throw new Error(`image folder ${dir} does not exist`);
  }
  if (!stat.isDirectory()) throw new Error(`image folder ${dir} is not a directory`);
  const classNames = listDir(dir).filter((n) => statSync(join(dir, n)).isDirectory());
  if (classNames.length === 0) {
    throw new Error(`image folder ${dir} is empty: expected one sub-folder per class (e.g. ${join(dir, 'cat')}/001.png)`);
  }
  const files: { path: string; label: number }[] = [];
  classNames.forEach((cls, label) => {
    const classDir = join(dir, cls);
    const images = listDir(classDir).filter((n) => IMAGE_EXTENSIONS.has(extname(n).toLowerCase()));
    if (images.length === 0) throw new Error(`class folder ${classDir} contains no images (.png, .jpg, .jpeg)`);
    for (const f of images) files.push({ path: join(classDir, f), label });
  });

  const target = opts.size === undefined ? undefined : typeof opts.size === 'number' ? [opts.size, opts.size] : opts.size;
  if (target && !target.every((d) => Number.isInteger(d) && d > 0)) {
    throw new Error(`loadImageFolder: size ${JSON.stringify(opts.size)} must be positive integers`);
  }
  const channels = opts.grayscale ? 1 : 3;
  let outH = 0;
  let outW = 0;
  let first: { path: string; width: number; height: number } | undefined;
  let x = new Float32Array(0);
  const y = new Int32Array(files.length);
  files.forEach(({ path, label }, i) => {
    const img = decodeImageFile(path);
    if (!first) {
      first = { path, width: img.width, height: img.height };
      [outH, outW] = target ?? [img.height, img.width];
      x = new Float32Array(files.length * outH * outW * channels);
    } else if (!target && (img.width !== first.width || img.height !== first.height)) {
      throw new Error(
        `images in ${dir} have different sizes: ${first.path} is ${first.width}x${first.height}, ` +
          `${path} is ${img.width}x${img.height} (width x height); pass the size option, e.g. { size: ${Math.min(first.height, img.height)} }, to resize all images`,
      );
    }
    const pixels = new Float32Array(img.width * img.height * channels);
    for (let p = 0; p < img.width * img.height; p++) {
      const r = img.rgba[4 * p]!;
      const g = img.rgba[4 * p + 1]!;
      const b = img.rgba[4 * p + 2]!;
      if (channels === 1) pixels[p] = (0.299 * r + 0.587 * g + 0.114 * b) / 255;
      else {
        pixels[3 * p] = r / 255;
        pixels[3 * p + 1] = g / 255;
        pixels[3 * p + 2] = b / 255;
      }
    }
    const sample = img.height === outH && img.width === outW ? pixels : resizeImages(pixels, 1, img.height, img.width, channels, outH, outW);
    x.set(sample, i * outH * outW * channels);
    y[i] = label;
  });
  const ds: Dataset = {
    name: opts.name ?? dir,
    task: 'classification',
    x,
    shape: [outH, outW, channels],
    y,
    numClasses: classNames.length,
    classNames,
  };
  assertValidDataset(ds);
  return ds;
}
