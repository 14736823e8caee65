import { describe, expect, it } from 'vitest';

import { EngineError } from '../../../engine/shared/errors';
import {
	funnelFrom,
	median,
	programStats,
	rankLeaderboard,
	rankOf,
} from '../../../engine/referrals/metrics';

const HOUR = 3_600_000;

function field(fn: () => unknown): string | undefined {
	try {
		fn();
	} catch (error) {
		expect(error).toBeInstanceOf(EngineError);
		return (error as EngineError).field;
	}
	throw new Error('expected an EngineError');
}

describe('funnel', () => {
	it('groups internal statuses into the funnel', () => {
		const funnel = funnelFrom({
			recorded: 1,
			pending: 10,
			approved: 2,
			flagged: 3,
			rejected: 4,
			qualified: 11,
			reversed: 2,
		});
		expect(funnel).toEqual({
			recorded: 33,
			pending: 13,
			flagged: 3,
			rejected: 4,
			qualified: 13,
			reversed: 2,
			netQualified: 11,
		});
	});

	it('refuses unknown statuses and negative counts', () => {
		expect(field(() => funnelFrom({ paid: 1 } as never))).toBe('statusCounts');
		expect(field(() => funnelFrom({ pending: -1 }))).toBe('statusCounts.pending');
		expect(field(() => funnelFrom({ pending: 1.5 }))).toBe('statusCounts.pending');
	});
});

describe('program stats', () => {
	const input = {
		customers: 200,
		referrers: 50,
		statusCounts: { pending: 40, flagged: 5, rejected: 15, qualified: 40, reversed: 4 },
		conversions: [
			{ signedUpAt: 0, qualifiedAt: 2 * HOUR, amount: 100, currency: 'EUR' },
			{ signedUpAt: 0, qualifiedAt: 4 * HOUR, amount: 50.1, currency: 'eur' },
			{ signedUpAt: 0, qualifiedAt: 30 * HOUR, amount: 20, currency: 'USD' },
			{ signedUpAt: 0, qualifiedAt: 10 * HOUR, amount: 999, currency: 'EUR', reversed: true },
		],
		rewardCost: { amount: 360, currency: 'EUR' },
		customerRows: [
			{ referred: true, revenue: 300, retained: true },
			{ referred: true, revenue: 100, retained: false },
			{ referred: false, revenue: 100, retained: true },
			{ referred: false, revenue: 50, retained: false },
			{ referred: false, revenue: 50 },
			{ referred: false, retained: false },
		],
	};

	it('computes every rate from its definition', () => {
		const s = programStats(input);
		// recorded = 104, rejected = 15, qualified ever = 44, net = 40
		expect(s.funnel.recorded).toBe(104);
		expect(s.funnel.netQualified).toBe(40);
		expect(s.referralRate).toBeCloseTo(50 / 200);
		expect(s.conversionRate).toBeCloseTo(40 / (104 - 15));
		expect(s.kFactor).toEqual({
			value: 40 / 200,
			invitesPerParticipant: 104 / 200,
			inviteConversionRate: 40 / 104,
			invitesFrom: 'recorded_referrals',
		});
		expect(s.kFactor!.invitesPerParticipant * s.kFactor!.inviteConversionRate!).toBeCloseTo(
			s.kFactor!.value,
		);
	});

	it('uses invites sent when tracked', () => {
		const s = programStats({ ...input, invitesSent: 400 });
		expect(s.kFactor).toMatchObject({
			invitesPerParticipant: 2,
			inviteConversionRate: 0.1,
			invitesFrom: 'invites_sent',
		});
		expect(s.kFactor!.value).toBeCloseTo(0.2);
	});

	it('sums referred revenue per currency in minor units, without reversed orders', () => {
		expect(programStats(input).referredRevenue).toEqual({ EUR: 150.1, USD: 20 });
	});

	it('reports mean and median time to convert over every qualification', () => {
		expect(programStats(input).timeToConvert).toEqual({
			count: 4,
			meanMs: (46 * HOUR) / 4,
			medianMs: 7 * HOUR,
		});
	});

	it('computes referral CAC per net qualified referral', () => {
		expect(programStats(input).referralCac).toEqual({
			amount: 360,
			currency: 'EUR',
			perQualifiedReferral: 9,
		});
	});

	it('compares referred and non-referred customers', () => {
		const c = programStats(input).referredVsNonReferred!;
		expect(c.referred).toEqual({
			customers: 2,
			revenue: 400,
			revenuePerCustomer: 200,
			retentionRate: 0.5,
		});
		expect(c.nonReferred).toEqual({
			customers: 4,
			revenue: 200,
			revenuePerCustomer: 50,
			retentionRate: 1 / 3,
		});
		expect(c.revenuePerCustomerRatio).toBe(4);
		expect(c.retentionDifference).toBeCloseTo(0.5 - 1 / 3);
	});

	it('returns null rather than NaN for empty denominators and missing inputs', () => {
		const s = programStats({ customers: 0, referrers: 0, statusCounts: {} });
		expect(s.referralRate).toBeNull();
		expect(s.conversionRate).toBeNull();
		expect(s.kFactor).toBeNull();
		expect(s.timeToConvert).toBeNull();
		expect(s.referralCac).toBeNull();
		expect(s.referredVsNonReferred).toBeNull();
		expect(s.referredRevenue).toEqual({});
		const noQualified = programStats({
			customers: 5,
			referrers: 1,
			statusCounts: { pending: 2 },
			rewardCost: { amount: 10, currency: 'EUR' },
		});
		expect(noQualified.referralCac).toBeNull();
		expect(noQualified.kFactor?.value).toBe(0);
	});

	it('refuses inconsistent or malformed input', () => {
		expect(field(() => programStats({ ...input, referrers: 201 }))).toBe('referrers');
		expect(field(() => programStats({ ...input, customers: -1 }))).toBe('customers');
		expect(
			field(() => programStats({ ...input, conversions: [{ signedUpAt: 10, qualifiedAt: 5 }] })),
		).toBe('qualifiedAt');
		expect(
			field(() =>
				programStats({
					...input,
					conversions: [{ signedUpAt: 0, qualifiedAt: 5, amount: 1, currency: 'E' }],
				}),
			),
		).toBe('conversions[0].currency');
		expect(
			field(() => programStats({ ...input, rewardCost: { amount: -1, currency: 'EUR' } })),
		).toBe('rewardCost.amount');
	});
});

describe('median', () => {
	it('handles odd and even counts', () => {
		expect(median([5, 1, 3])).toBe(3);
		expect(median([4, 1, 3, 2])).toBe(2.5);
		expect(() => median([])).toThrow(EngineError);
	});
});

describe('leaderboard', () => {
	const rows = [
		{ participantId: 'dave', value: 3 },
		{ participantId: 'alice', value: 7 },
		{ participantId: 'carol', value: 5 },
		{ participantId: 'bob', value: 5 },
		{ participantId: 'erin', value: 1 },
	];

	it('uses competition ranking: ties share a rank and the next rank skips', () => {
		expect(rankLeaderboard(rows).map((r) => [r.participantId, r.rank])).toEqual([
			['alice', 1],
			['bob', 2],
			['carol', 2],
			['dave', 4],
			['erin', 5],
		]);
	});

	it('keeps everyone tied at the cut-off', () => {
		expect(rankLeaderboard(rows, 2).map((r) => r.participantId)).toEqual(['alice', 'bob', 'carol']);
		expect(rankLeaderboard(rows, 3).map((r) => r.participantId)).toEqual(['alice', 'bob', 'carol']);
		expect(rankLeaderboard(rows, 4).map((r) => r.participantId)).toEqual([
			'alice',
			'bob',
			'carol',
			'dave',
		]);
	});

	it("keeps extra row fields and gives one participant's rank", () => {
		const withNames = rows.map((r) => ({ ...r, name: r.participantId.toUpperCase() }));
		expect(rankLeaderboard(withNames)[0]).toEqual({
			participantId: 'alice',
			value: 7,
			name: 'ALICE',
			rank: 1,
		});
		expect(rankOf(rows, 'carol')).toBe(2);
		expect(rankOf(rows, 'zoe')).toBeNull();
	});

	it('handles all-equal rows and an empty board', () => {
		expect(
			rankLeaderboard([
				{ participantId: 'a', value: 0 },
				{ participantId: 'b', value: 0 },
			]).map((r) => r.rank),
		).toEqual([1, 1]);
		expect(rankLeaderboard([])).toEqual([]);
	});

	it('refuses bad rows and limits', () => {
		expect(field(() => rankLeaderboard(rows, 0))).toBe('limit');
		expect(field(() => rankLeaderboard([{ participantId: 'a', value: Number.NaN }]))).toBe('value');
		expect(field(() => rankLeaderboard([{ participantId: '', value: 1 }]))).toBe(
			'rows[0].participantId',
		);
	});
});
