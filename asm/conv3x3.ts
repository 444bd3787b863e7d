// Direct 3x3 stride-1 convolution (NHWC, float32) for first layers with 1..3 input channels, where
// Winograd's GEMMs (K = C) are too short to pay:
//   y[n, oh, ow, o] = sum over a, b, c of xp[n, oh + a, ow + b, c] * g[a, b, c, o]
// on the zero-padded input xp (convPadInput in conv.ts). Register block: 4 output pixels x 8 output channels in
// 8 f32x4 accumulators; per tap and channel 4 broadcast x values and 2 filter vectors. Blocks at
// the right edge and the last channel block are shifted back to overlap the previous one (they
// store the same values again), so that no block needs a tail; hence OW >= 4 and O >= 8.

/** y = the convolution of the padded xp[N, OH + 2, OW + 2, C] with g[3, 3, C, O] (+ bias, relu). */
export function conv3x3Direct(
  xp: usize, g: usize, y: usize, bias: usize,
  N: i32, C: i32, OH: i32, OW: i32, O: i32, relu: bool,
): void {
  const Wp = OW + 2;
  const pix: usize = <usize>C << 2;
  const rowX: usize = <usize>Wp * pix;
  const ldg: usize = <usize>O << 2; // bytes between filter rows
  const pixY: usize = <usize>O << 2;
  const zero = f32x4.splat(0);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const xrow = xp + <usize>(n * (OH + 2) + oh) * rowX;
      const yrow = y + <usize>((n * OH + oh) * OW) * pixY;
      for (let ob = 0; ob < O; ob += 8) {
        const o = min(ob, O - 8);
        const go = g + (<usize>o << 2);
        let bv0 = zero, bv1 = zero;
        if (bias != 0) {
          bv0 = v128.load(bias + (<usize>o << 2));
          bv1 = v128.load(bias + (<usize>o << 2), 16);
        }
        for (let wb = 0; wb < OW; wb += 4) {
          const ow = min(wb, OW - 4);
          let a00 = bv0, a01 = bv1, a10 = bv0, a11 = bv1, a20 = bv0, a21 = bv1, a30 = bv0, a31 = bv1;
          let pg = go;
          for (let a = 0; a < 3; a++) {
            let px = xrow + <usize>a * rowX + <usize>ow * pix;
            // Taps (a, 0..2) x channels 0..C-1: 3C consecutive x values per output pixel.
            const end = px + pix * 3;
            while (px < end) {
              const f0 = v128.load(pg);
              const f1 = v128.load(pg, 16);
              let s = v128.load32_splat(px);
              a00 = f32x4.add(a00, f32x4.mul(s, f0));
              a01 = f32x4.add(a01, f32x4.mul(s, f1));
              s = v128.load32_splat(px + pix);
              a10 = f32x4.add(a10, f32x4.mul(s, f0));
              a11 = f32x4.add(a11, f32x4.mul(s, f1));
              s = v128.load32_splat(px + pix * 2);
              a20 = f32x4.add(a20, f32x4.mul(s, f0));
              a21 = f32x4.add(a21, f32x4.mul(s, f1));
              s = v128.load32_splat(px + pix * 3);
              a30 = f32x4.add(a30, f32x4.mul(s, f0));
              a31 = f32x4.add(a31, f32x4.mul(s, f1));
              px += 4;
              pg += ldg;
            }
          }
          if (relu) {
            a00 = f32x4.max(a00, zero); a01 = f32x4.max(a01, zero);
            a10 = f32x4.max(a10, zero); a11 = f32x4.max(a11, zero);
            a20 = f32x4.max(a20, zero); a21 = f32x4.max(a21, zero);
            a30 = f32x4.max(a30, zero); a31 = f32x4.max(a31, zero);
          }
          let q = yrow + <usize>ow * pixY + (<usize>o << 2);
          v128.store(q, a00); v128.store(q, a01, 16); q += pixY;
          v128.store(q, a10); v128.store(q, a11, 16); q += pixY;
          v128.store(q, a20); v128.store(q, a21, 16); q += pixY;
          v128.store(q, a30); v128.store(q, a31, 16);
        }
      }
    }
  }
}
