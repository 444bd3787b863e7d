/** Datasets for NAS training and `tsnas fit` / `tsnas predict`. */
export * from './dataset.js';
export * from './resize.js';
export * from './mnist.js';
export * from './imageFolder.js';
export * from './imageWriter.js';
export * from './preprocess.js';
export * from './csv.js';
export * from './tabular.js';
export * from './registry.js';
