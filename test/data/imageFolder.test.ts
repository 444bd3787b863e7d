import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classCounts } from '../../src/data/dataset.js';
import { loadImageFolder } from '../../src/data/imageFolder.js';
import { writeImage, writeSyntheticImageFolder } from '../../src/data/imageWriter.js';

const tmp = (label: string) => mkdtempSync(join(tmpdir(), `tsnas-img-${label}-`));

describe('loadImageFolder', () => {
  it('loads a PNG class-per-folder dataset with labels from folder names', () => {
    const dir = tmp('png');
    const { classNames } = writeSyntheticImageFolder(dir, { classes: 3, perClass: 4, width: 8, height: 6, seed: 1 });
    const ds = loadImageFolder(dir, { grayscale: true });
    expect(ds.classNames).toEqual(classNames);
    expect(ds.shape).toEqual([6, 8, 1]);
    expect(ds.y.length).toBe(12);
    expect(classCounts(ds)).toEqual([4, 4, 4]);
    // class k has its bright bar at row floor((k + 0.5) * 6 / 3) = 1, 3, 5
    for (let i = 0; i < 12; i++) {
      const k = ds.y[i]!;
      const row = [1, 3, 5][k]!;
      const px = ds.x[i * 48 + row * 8 + 3]!;
      const bg = ds.x[i * 48 + ((row + 1) % 6) * 8 + 3]!;
      expect(px).toBeGreaterThan(0.8);
      expect(bg).toBeLessThan(0.15);
    }
  });

  it('reads RGB (3 channels) by default and exact pixel values from PNG', () => {
    const dir = tmp('rgb');
    mkdirSync(join(dir, 'red'));
    mkdirSync(join(dir, 'blue'));
    const px = (r: number, g: number, b: number) => Uint8Array.from([r, g, b, r, g, b, r, g, b, r, g, b]);
    writeImage(join(dir, 'red', 'a.png'), { width: 2, height: 2, channels: 3, data: px(255, 0, 51) });
    writeImage(join(dir, 'blue', 'b.PNG'), { width: 2, height: 2, channels: 3, data: px(0, 102, 255) });
    writeFileSync(join(dir, 'blue', 'notes.txt'), 'ignored');
    const ds = loadImageFolder(dir);
    expect(ds.classNames).toEqual(['blue', 'red']);
    expect(ds.shape).toEqual([2, 2, 3]);
    expect([...ds.y]).toEqual([0, 1]);
    expect([...ds.x.subarray(0, 3)].map((v) => Math.round(v * 255))).toEqual([0, 102, 255]);
    expect([...ds.x.subarray(12, 15)].map((v) => Math.round(v * 255))).toEqual([255, 0, 51]);
    const gray = loadImageFolder(dir, { grayscale: true });
    expect(gray.x[0]).toBeCloseTo((0.587 * 102 + 0.114 * 255) / 255, 5);
  });

  it('reads JPEG files', () => {
    const dir = tmp('jpg');
    writeSyntheticImageFolder(dir, { classes: 2, perClass: 3, width: 16, height: 16, format: 'jpeg', noise: 0 });
    const ds = loadImageFolder(dir, { grayscale: true });
    expect(ds.shape).toEqual([16, 16, 1]);
    expect(ds.y.length).toBe(6);
    // bar of class 0 at row 4: lossy, but clearly bright
    expect(ds.x[4 * 16 + 8]!).toBeGreaterThan(0.7);
    expect(ds.x[10 * 16 + 8]!).toBeLessThan(0.2);
  });

  it('names two files of different sizes and the size option, and resizes with it', () => {
    const dir = tmp('mixed');
    writeSyntheticImageFolder(dir, { classes: 2, perClass: 2, width: 8, height: 8, mixedSizes: true });
    expect(() => loadImageFolder(dir)).toThrow(/class0\/000\.png is 8x8, .*class1\/001\.png is 9x8.*size option/);
    const ds = loadImageFolder(dir, { size: 4, grayscale: true });
    expect(ds.shape).toEqual([4, 4, 1]);
    expect(ds.y.length).toBe(4);
    const rect = loadImageFolder(dir, { size: [4, 2] });
    expect(rect.shape).toEqual([4, 2, 3]);
  });

  it('errors clearly on an empty folder, a class without images, an unreadable image, a missing folder', () => {
    const empty = tmp('empty');
    expect(() => loadImageFolder(empty)).toThrow(new RegExp(`image folder ${empty} is empty`));
    const noImages = tmp('noimg');
    mkdirSync(join(noImages, 'cats'));
    writeFileSync(join(noImages, 'cats', 'readme.md'), '#');
    expect(() => loadImageFolder(noImages)).toThrow(new RegExp(`class folder ${join(noImages, 'cats')} contains no images`));
    const broken = tmp('broken');
    writeSyntheticImageFolder(broken, { classes: 2, perClass: 1 });
    writeFileSync(join(broken, 'class1', 'zzz.png'), 'not a png');
    expect(() => loadImageFolder(broken)).toThrow(new RegExp(`cannot decode image ${join(broken, 'class1', 'zzz.png')} \\(PNG\\)`));
    const badJpeg = tmp('badjpeg');
    writeSyntheticImageFolder(badJpeg, { classes: 2, perClass: 1 });
    writeFileSync(join(badJpeg, 'class0', 'b.jpg'), 'garbage');
    expect(() => loadImageFolder(badJpeg)).toThrow(/cannot decode image .*class0\/b\.jpg \(JPG\)/);
    expect(() => loadImageFolder(join(empty, 'nope'))).toThrow(/does not exist/);
  });
});
