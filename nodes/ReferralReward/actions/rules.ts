import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import { isEngineError } from '../../../engine/shared/errors';
import type { LedgerStore } from '../../../engine/ledger';
import type { NegativeBalancePolicy, UncheckedRewardProgram } from '../../../engine/rewards';
import { RewardAccount, RewardService, type RewardServiceOptions } from '../../../engine/rewards';
import { ruleFieldLabels } from './rules.description';

/* The reward rules form (rules.description.ts) turned into the engine's reward program, and the
 * reward service and account the operations use. */

const present = (v: unknown) => v !== undefined && v !== null && v !== '';

/* The form writes rules, caps and specs as plain records: the engine checks each field when the
 * service is made (validateRewardProgram) and names the form's field in its error. */
type Unchecked = Record<string, unknown>;

function rewardSpec(entry: IDataObject): Unchecked {
	const spec: Unchecked = { kind: entry.kind };
	if (entry.kind === 'points') spec.points = entry.points;
	if (entry.kind === 'cash') {
		if (entry.cashAmountType === 'percentOfOrder') spec.percentOfOrder = entry.percentOfOrder;
		else spec.amount = entry.amount;
	}
	if (entry.kind === 'coupon') {
		if ((entry.amountType ?? 'amount') === 'amount') spec.amount = entry.amount;
		else spec.percentOff = entry.percentOff;
		spec.couponSource = entry.couponSource ?? 'generate';
		if (spec.couponSource === 'pool') spec.couponPoolId = entry.couponPoolId;
		else if (present(entry.couponPrefix)) spec.couponPrefix = entry.couponPrefix;
		if (typeof entry.couponValidDays === 'number' && entry.couponValidDays !== 0)
			spec.couponValidDays = entry.couponValidDays;
	}
	if (entry.kind === 'custom') {
		spec.customType = entry.customType;
		if (present(entry.customValue)) spec.customValue = entry.customValue;
	}
	if ((entry.kind === 'cash' || entry.kind === 'coupon') && present(entry.currency))
		spec.currency = entry.currency;
	return spec;
}

/** Turns the form into the engine's reward program (validated by the service). */
export function programFromForm(
	programId: string,
	form: {
		perReferral?: IDataObject;
		milestones?: IDataObject;
		levels?: IDataObject;
		caps?: IDataObject;
		programOptions?: IDataObject;
	},
): UncheckedRewardProgram {
	const options = form.programOptions ?? {};
	const rules: Unchecked[] = [];
	// Rule Name is a label, passed as typed: the engine names unnamed rules and decides each rule's identity (engine/rewards/identity.ts).
	for (const entry of (form.perReferral?.rewards as IDataObject[] | undefined) ?? []) {
		const id = typeof entry.id === 'number' ? String(entry.id) : entry.id;
		const rule: Unchecked = {
			...(id !== undefined ? { id } : {}),
			type: 'per_referral',
			side: entry.side ?? 'referrer',
			on: entry.on ?? 'referral_qualified',
			reward: rewardSpec(entry),
		};
		if (typeof entry.minOrderAmount === 'number' && entry.minOrderAmount !== 0)
			rule.minOrderAmount = entry.minOrderAmount;
		rules.push(rule);
	}
	// One milestone rule per metric, so the engine sees (and refuses) milestones that would fire together.
	const byMetric = new Map<string, Unchecked[]>();
	for (const entry of (form.milestones?.milestone as IDataObject[] | undefined) ?? []) {
		const metric = String(entry.metric ?? 'qualified_referrals');
		const m: Unchecked = { threshold: entry.threshold };
		if (typeof entry.repeatEvery === 'number' && entry.repeatEvery !== 0)
			m.repeatEvery = entry.repeatEvery;
		if (entry.kind === 'badge') m.badge = entry.name;
		else if (entry.kind === 'tier') m.tier = entry.name;
		else m.reward = rewardSpec(entry);
		if ((entry.kind === 'badge' || entry.kind === 'tier') && present(entry.whenBelowMinimum))
			m.whenBelowMinimum = entry.whenBelowMinimum;
		byMetric.set(metric, [...(byMetric.get(metric) ?? []), m]);
	}
	for (const [metric, milestones] of byMetric) {
		rules.push({ type: 'milestone', metric, milestones });
	}
	const statusRules = new Map<
		string,
		{ type: 'status'; award: string; metric: string; levels: Unchecked[] }
	>();
	for (const entry of (form.levels?.level as IDataObject[] | undefined) ?? []) {
		const awards =
			entry.award === 'both' || entry.award === undefined
				? ['badge', 'tier']
				: [String(entry.award)];
		const metric = String(entry.metric ?? 'qualified_referrals');
		for (const award of awards) {
			const group = `${award}:${metric}`;
			let rule = statusRules.get(group);
			if (!rule) {
				rule = { type: 'status', award, metric, levels: [] };
				statusRules.set(group, rule);
			}
			rule.levels.push({
				name: entry.name,
				min: entry.min,
				...(present(entry.whenBelowMinimum) ? { whenBelowMinimum: entry.whenBelowMinimum } : {}),
			});
		}
	}
	rules.push(...statusRules.values());
	const caps = ((form.caps?.cap as IDataObject[] | undefined) ?? []).map((entry) => {
		const cap: Unchecked = { period: entry.period ?? 'month' };
		if ((entry.limit ?? 'count') === 'count') cap.maxCount = entry.max;
		else {
			cap.maxValue = entry.max;
			cap.unit = present(entry.unit) ? entry.unit : 'points';
		}
		return cap;
	});
	const program: UncheckedRewardProgram = { programId, rules, caps };
	if (present(options.currency)) program.currency = options.currency;
	if (options.holdingDays !== undefined) program.holdingDays = options.holdingDays;
	if (present(options.timeZone)) program.timeZone = options.timeZone;
	return program;
}

/** A reward configuration mistake as the node reports it: naming the rule and the form field. */
function rulesError(ctx: IExecuteFunctions, error: unknown): NodeOperationError {
	if (!isEngineError(error)) return new NodeOperationError(ctx.getNode(), error as Error);
	const label = error.field ? (ruleFieldLabels[error.field] ?? error.field) : undefined;
	return new NodeOperationError(ctx.getNode(), `Reward rules: ${error.message}`, {
		description: label ? `Check "${label}" in the reward rules.` : undefined,
	});
}

/** One instance per program for this execution. */
function perProgram<T>(make: (programId: string) => T): (programId: string) => T {
	const made = new Map<string, T>();
	return (programId) => {
		let instance = made.get(programId);
		if (instance === undefined) {
			instance = make(programId);
			made.set(programId, instance);
		}
		return instance;
	};
}

/**
 * The reward service for this execution (Evaluate and Award): the form is read and validated once,
 * and a mistake (a negative amount, overlapping tiers, a cap of zero) stops the node naming the rule and field.
 */
export function rewardServiceFor(
	ctx: IExecuteFunctions,
	ledger: LedgerStore,
	extra: RewardServiceOptions = {},
): (programId: string) => RewardService {
	const policy = ctx.getNodeParameter(
		'negativeBalancePolicy',
		0,
		'allow_negative',
	) as NegativeBalancePolicy;
	const form = {
		perReferral: ctx.getNodeParameter('perReferral', 0, {}) as IDataObject,
		milestones: ctx.getNodeParameter('milestones', 0, {}) as IDataObject,
		levels: ctx.getNodeParameter('levels', 0, {}) as IDataObject,
		caps: ctx.getNodeParameter('caps', 0, {}) as IDataObject,
		programOptions: ctx.getNodeParameter('programOptions', 0, {}) as IDataObject,
	};
	const lowStock = form.programOptions.lowStockThreshold;
	return perProgram((programId) => {
		try {
			return new RewardService(ledger, programFromForm(programId, form), {
				negativeBalancePolicy: policy,
				...(typeof lowStock === 'number' ? { lowStockThreshold: lowStock } : {}),
				...extra,
			});
		} catch (error) {
			throw rulesError(ctx, error);
		}
	});
}

/** The reward accounts for this execution, for the operations that need no rules (approve, reverse, status, …). */
export function rewardAccountFor(
	ctx: IExecuteFunctions,
	ledger: LedgerStore,
): (programId: string) => RewardAccount {
	const policy = ctx.getNodeParameter(
		'negativeBalancePolicy',
		0,
		'allow_negative',
	) as NegativeBalancePolicy;
	return perProgram((programId) => {
		try {
			return new RewardAccount(ledger, programId, { negativeBalancePolicy: policy });
		} catch (error) {
			throw rulesError(ctx, error);
		}
	});
}
