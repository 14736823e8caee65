/** Loyalty analytics: RFM, NPS, CLV (BG/NBD + Gamma-Gamma) and a weighted 0–100 loyalty index. */
export * from './rfm';
export * from './nps';
export * from './clv';
export * from './loyaltyIndex';
export { parseDay, formatDay } from './dates';
export {
	groupTransactions,
	type CustomerTransactions,
	type ExclusionCounts,
	type TransactionFields,
} from './transactions';
export { hyp2f1 } from './math/hyp2f1';
