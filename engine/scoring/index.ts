/* Lead scoring: rule scoring with decay, limits, grades and stages; logistic models; backtests. */
export { compileRuleSet } from './rules';
export {
	RULE_OPERATORS,
	type BadInput,
	type BadInputPolicy,
	type BadInputReason,
	type ExplainLevel,
	type GroupDimension,
	type GroupExplanation,
	type LeadScore,
	type RuleExplanation,
	type RuleOperator,
	type RuleScorer,
	type RuleValue,
	type ScoringConfig,
	type ScoringGroup,
	type ScoringRule,
} from './ruleTypes';
export * from './decay';
export * from './grades';
export * from './logistic';
export { firstDependentColumn, fitLogistic, type LogisticFit } from './logisticFit';
export * from './metrics';
export * from './backtest';
export { createRandom } from './random';
export { parseDate, parseFieldPath, DAY_MS } from './fields';
export { referralFeatures, type ReferralFeatures } from './referralFeatures';
