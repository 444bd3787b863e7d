/**
 * `tsnas/fit`: end-to-end AutoML. `fit({ data, target, timeBudget })` searches, retrains, tests and
 * exports a model; `loadModel(dir)` and the predict helpers apply an exported model to new inputs;
 * `dirHandler(dir)` is a tfjs IOHandler for the exported folder (`tf.loadLayersModel(dirHandler(dir))`).
 * This entry loads TensorFlow.js.
 */
export { fit, parseBudget, MIN_BUDGET_SECONDS, DEFAULT_BUDGET_SECONDS, type FitOptions, type FitResult, type FitProgress, type FitSummary, type FitTest } from './fit.js';
export { loadModel, dirHandler, saveModelDir, type Genotype, type SavedModel } from './export.js';
export { loadPredictionInputs, predictInputs, predictionsCsv, rowsToInputs, type Predictions, type PredictionInputs } from './predict.js';
export { FitError, loadFitData, type FitData, type Preprocessing, type TaskOption } from './data.js';
export { planFit, type DataProfile, type FitBudget, type FitOverrides, type FitPlan } from './policy.js';
export { defaultParams } from './defaults.js';
export { initBackend } from '../nn/backend.js';
