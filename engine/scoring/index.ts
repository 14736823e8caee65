/* Lead scoring: rule scoring with decay, limits, grades and stages; logistic models; backtests. */
export * from './rules';
export * from './decay';
export * from './grades';
export * from './logistic';
export * from './metrics';
export * from './backtest';
export { createRandom } from './random';
export { parseDate, parseFieldPath, DAY_MS } from './fields';
export { referralFeatures, type ReferralFeatures } from './referralFeatures';
