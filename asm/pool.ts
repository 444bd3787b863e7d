// Max pool (NHWC, float32) on raw heap pointers: the forward pass (below) and the gradient.
// Gradient: For every window the gradient goes to the
// first maximum in row-major window order (TensorFlow's and tfjs cpu's convention); windows that
// overlap accumulate. Four channels per SIMD lane group; a scalar tail for C % 4. The 2x2 window
// (the common pooling layer) has an unrolled path.

export function maxPoolGrad(
  x: usize, dy: usize, dx: usize,
  N: i32, H: i32, W: i32, C: i32,
  OH: i32, OW: i32, kh: i32, kw: i32, sh: i32, sw: i32, top: i32, left: i32,
): void {
  // Windows that overlap accumulate into dx; otherwise every element belongs to at most one window
  // and is stored once (no read-modify-write), and dx is zeroed first only if some element lies in
  // no window.
  const overlap = sh < kh || sw < kw;
  const tiles = !overlap && sh == kh && sw == kw && top == 0 && left == 0 && OH * kh == H && OW * kw == W;
  if (!tiles) memory.fill(dx, 0, <usize>N * H * W * C * 4);
  const C4 = C & ~3;
  const rowBytes = <usize>W * C * 4;
  const pixBytes = <usize>C * 4;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * sh - top;
      const ha = max(h0, 0), hb = min(h0 + kh, H);
      for (let ow = 0; ow < OW; ow++) {
        const w0 = ow * sw - left;
        const wa = max(w0, 0), wb = min(w0 + kw, W);
        const off = (<usize>((n * H + ha) * W + wa) * C) << 2;
        const g = dy + ((<usize>((n * OH + oh) * OW + ow) * C) << 2);
        if (hb - ha == 2 && wb - wa == 2 && !overlap) {
          window2x2(x + off, dx + off, g, C4, pixBytes, rowBytes);
        } else {
          windowAny(x + off, dx + off, g, C4, pixBytes, rowBytes, hb - ha, wb - wa, overlap);
        }
        for (let c = C4; c < C; c++) {
          const cb = <usize>c << 2;
          let best: f32 = -Infinity;
          let bp: usize = 0;
          for (let h = 0; h < hb - ha; h++) {
            for (let w = 0; w < wb - wa; w++) {
              const p = off + <usize>h * rowBytes + <usize>w * pixBytes + cb;
              const v = load<f32>(x + p);
              if (v > best) { best = v; bp = p + 1; }
              if (tiles) store<f32>(dx + p, 0); // not zeroed up front
            }
          }
          if (bp != 0) {
            const p = dx + bp - 1;
            store<f32>(p, load<f32>(p) + load<f32>(g + cb));
          }
        }
      }
    }
  }
}

// @ts-ignore: decorator
@inline function window2x2(x: usize, dx: usize, g: usize, C4: i32, pix: usize, row: usize): void {
  for (let c: usize = 0; c < <usize>C4 << 2; c += 16) {
    const a = v128.load(x + c), b = v128.load(x + pix + c);
    const d = v128.load(x + row + c), e = v128.load(x + row + pix + c);
    // First maximum in row-major order: a tap wins only if strictly above every earlier tap.
    const ab = f32x4.max(a, b);
    const ma = f32x4.ge(a, b);                       // a is the first max of {a, b}
    const mab = f32x4.ge(ab, f32x4.max(d, e));       // the max is in the top row
    const md = f32x4.ge(d, e);
    const gy = v128.load(g + c);
    const top = v128.and(gy, mab);
    const bottom = v128.andnot(gy, mab);
    v128.store(dx + c, v128.and(top, ma));
    v128.store(dx + pix + c, v128.andnot(top, ma));
    v128.store(dx + row + c, v128.and(bottom, md));
    v128.store(dx + row + pix + c, v128.andnot(bottom, md));
  }
}

// @ts-ignore: decorator
@inline function windowAny(
  x: usize, dx: usize, g: usize, C4: i32, pix: usize, row: usize, nh: i32, nw: i32, overlap: bool,
): void {
  for (let c: usize = 0; c < <usize>C4 << 2; c += 16) {
    let best = f32x4.splat(-Infinity);
    let bt = i32x4.splat(-1);
    let t = 0;
    for (let h = 0; h < nh; h++) {
      for (let w = 0; w < nw; w++) {
        const v = v128.load(x + <usize>h * row + <usize>w * pix + c);
        const gt = f32x4.gt(v, best);
        best = v128.bitselect(v, best, gt);
        bt = v128.bitselect(i32x4.splat(t), bt, gt);
        t++;
      }
    }
    const d = v128.load(g + c);
    t = 0;
    for (let h = 0; h < nh; h++) {
      for (let w = 0; w < nw; w++) {
        const p = dx + <usize>h * row + <usize>w * pix + c;
        const hit = v128.and(d, i32x4.eq(bt, i32x4.splat(t)));
        v128.store(p, overlap ? f32x4.add(v128.load(p), hit) : hit);
        t++;
      }
    }
  }
}

// Max pool forward, NHWC: y[n, oh, ow, c] = max over the window's valid (non-padding) elements.
export function maxPool(
  x: usize, y: usize,
  N: i32, H: i32, W: i32, C: i32,
  OH: i32, OW: i32, kh: i32, kw: i32, sh: i32, sw: i32, top: i32, left: i32,
): void {
  const C4 = <usize>(C & ~3) << 2;
  const pix = <usize>C << 2;
  const row = <usize>W * pix;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * sh - top;
      const ha = max(h0, 0), hb = min(h0 + kh, H);
      for (let ow = 0; ow < OW; ow++) {
        const w0 = ow * sw - left;
        const wa = max(w0, 0), wb = min(w0 + kw, W);
        const p = x + (<usize>((n * H + ha) * W + wa) << 2) * <usize>C;
        const nh = hb - ha, nw = wb - wa;
        if (nh == 2 && nw == 2) {
          let c: usize = 0;
          for (; c < C4; c += 16) {
            const t = f32x4.max(v128.load(p + c), v128.load(p + pix + c));
            const u = f32x4.max(v128.load(p + row + c), v128.load(p + row + pix + c));
            v128.store(y + c, f32x4.max(t, u));
          }
          for (; c < pix; c += 4) {
            const t = max(load<f32>(p + c), load<f32>(p + pix + c));
            store<f32>(y + c, max(t, max(load<f32>(p + row + c), load<f32>(p + row + pix + c))));
          }
        } else {
          let c: usize = 0;
          for (; c < C4; c += 16) {
            let m = f32x4.splat(-Infinity);
            for (let h = 0; h < nh; h++) {
              for (let w = 0; w < nw; w++) m = f32x4.max(m, v128.load(p + <usize>h * row + <usize>w * pix + c));
            }
            v128.store(y + c, m);
          }
          for (; c < pix; c += 4) {
            let m: f32 = -Infinity;
            for (let h = 0; h < nh; h++) {
              for (let w = 0; w < nw; w++) m = max(m, load<f32>(p + <usize>h * row + <usize>w * pix + c));
            }
            store<f32>(y + c, m);
          }
        }
        y += pix;
      }
    }
  }
}
