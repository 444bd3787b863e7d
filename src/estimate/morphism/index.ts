/** Weight inheritance by network morphism: see inherit.ts (rules), morphisms.ts (transforms), store.ts (artifacts). */
export * from './weights.js';
export * from './arrays.js';
export * from './inherit.js';
export * from './morphisms.js';
export * from './store.js';
export * from './random.js';
export * from './hooks.js';
export * from './stats.js';
