// tsnas's SIMD training kernels (AssemblyScript -> wasm). The module imports the tfjs wasm backend's
// own memory and works on raw heap pointers of tensors that the backend allocated; it owns no memory
// and has no data segments, so it can never overwrite the backend's heap outside the pointers given.
export { maxPool, maxPoolGrad } from './pool';
export { adam, sgd, momentum, rmsprop } from './optim';
export { gemm, gemmScratchFloats } from './matmul';
export { convPadInput, convFilterGrad, depthwiseFilterGrad } from './conv';
export { binaryLastAxis, binaryScalar, batchNormApply, reluGrad } from './elementwise';
export { winogradConv, winogradFilter, winogradFilterFloats, winogradScratchFloats, winograd4Conv, winograd4Filter, winograd4FilterFloats, winograd4ScratchFloats, conv3x3Direct } from './winograd';
export { flatReduce } from './flat';
export { convFilterGradWinograd, winogradFilterGradScratchFloats } from './filter-winograd';
