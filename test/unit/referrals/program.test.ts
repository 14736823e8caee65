import { describe, expect, it } from 'vitest';

import { DEFAULT_ATTRIBUTION } from '../../../engine/referrals/attribution';
import { DEFAULT_FRAUD_POLICY } from '../../../engine/referrals/fraud';
import { validateReferralProgram } from '../../../engine/referrals/program';

describe('referral program settings', () => {
	it('fills every default', () => {
		expect(validateReferralProgram({ programId: 'spring' })).toEqual({
			programId: 'spring',
			attribution: DEFAULT_ATTRIBUTION,
			fraudPolicy: DEFAULT_FRAUD_POLICY,
			qualification: {},
			refundPolicy: 'any_refund',
		});
	});

	it('keeps given settings', () => {
		const p = validateReferralProgram({
			programId: 'spring',
			attribution: { windowDays: 60, model: 'last_touch' },
			fraudPolicy: { flagThreshold: 40 },
			qualification: { minOrderAmount: 25 },
			refundPolicy: 'full_refund_only',
		});
		expect(p.attribution.model).toBe('last_touch');
		expect(p.fraudPolicy.flagThreshold).toBe(40);
		expect(p.qualification.minOrderAmount).toBe(25);
		expect(p.refundPolicy).toBe('full_refund_only');
	});

	it.each([
		[{}, 'programId'],
		[{ programId: 'p', attribution: { windowDays: 0 } }, 'attributionWindowDays'],
		[{ programId: 'p', fraudPolicy: { blockThreshold: 10, flagThreshold: 20 } }, 'blockThreshold'],
		[{ programId: 'p', qualification: { minOrderAmount: -1 } }, 'minOrderAmount'],
		[{ programId: 'p', refundPolicy: 'never' }, 'refundPolicy'],
	])('refuses %j naming %s', (input, field) => {
		expect(() => validateReferralProgram(input)).toThrow(expect.objectContaining({ field }));
	});
});
