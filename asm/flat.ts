// The gradient reduction of a data-parallel step (src/nn/parallel/flat-optimizer.ts) on flat
// float32 arrays: dst = w * src (first shard) or dst + w * src (later shards, in rank order).
export function flatReduce(dst: usize, src: usize, w: f32, n: i32, first: i32): void {
  const W = f32x4.splat(w);
  const end4 = <usize>(n & ~3) << 2;
  const end = <usize>n << 2;
  let i: usize = 0;
  if (first) {
    for (; i < end4; i += 16) v128.store(dst + i, f32x4.mul(v128.load(src + i), W));
    for (; i < end; i += 4) store<f32>(dst + i, load<f32>(src + i) * w);
  } else {
    for (; i < end4; i += 16) v128.store(dst + i, f32x4.add(v128.load(dst + i), f32x4.mul(v128.load(src + i), W)));
    for (; i < end; i += 4) store<f32>(dst + i, load<f32>(dst + i) + load<f32>(src + i) * w);
  }
}
