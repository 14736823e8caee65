import { describe, expect, it } from 'vitest';

import {
	assessReferral,
	checkCode,
	checkDisposableEmail,
	checkDuplicateReferee,
	checkRing,
	checkSameDevice,
	checkSameIp,
	checkSelfReferral,
	checkVelocity,
	DEFAULT_FRAUD_POLICY,
	findRing,
	hashIp,
	hashUserAgent,
	normalizeIp,
	validateFraudPolicy,
	type FraudInput,
	type ReferralEdge,
} from '../../../engine/referrals/fraud';
import { engineError } from '../../support/engineError';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 5, 1, 12);
const policy = validateFraudPolicy({});

function base(overrides: Partial<FraudInput> = {}): FraudInput {
	return {
		referralId: 'r-new',
		at: T0,
		referrer: { id: 'alice', email: 'alice@example.com', name: 'Alice Smith' },
		referee: { id: 'bob', email: 'bob@example.org', name: 'Bob Jones' },
		...overrides,
	};
}

describe('self-referral', () => {
	it('is silent for two different people', () => {
		expect(checkSelfReferral(base(), policy)).toBeNull();
	});

	it('fires on the same participant id', () => {
		const f = checkSelfReferral(base({ referee: { id: 'alice' } }), policy);
		expect(f).toMatchObject({ check: 'self_referral', reason: 'self_referral', score: 100 });
	});

	it('fires on gmail dots and +tag aliases of the referrer', () => {
		const input = base({
			referrer: { id: 'alice', email: 'alice.smith@gmail.com' },
			referee: { email: 'AliceSmith+friend@googlemail.com' },
		});
		expect(checkSelfReferral(input, policy)?.detail).toMatch(/same mailbox/);
	});

	it('does not fold dots for providers that keep them', () => {
		const input = base({
			referrer: { id: 'alice', email: 'a.smith@outlook.com' },
			referee: { email: 'asmith@outlook.com' },
		});
		expect(checkSelfReferral(input, policy)).toBeNull();
	});

	it('folds +tags on any domain only when the policy says so', () => {
		const input = base({
			referrer: { id: 'alice', email: 'alice@shop.example' },
			referee: { email: 'alice+2@shop.example' },
		});
		expect(checkSelfReferral(input, policy)).toBeNull();
		expect(
			checkSelfReferral(input, validateFraudPolicy({ stripTagsForAllDomains: true })),
		).not.toBeNull();
	});

	it('fires on the same name at the same email domain, ignoring case and accents', () => {
		const input = base({
			referrer: { id: 'alice', email: 'alice@corp.example', name: 'Zoë  Müller' },
			referee: { email: 'zm@corp.example', name: 'zoe muller' },
		});
		expect(checkSelfReferral(input, policy)?.detail).toMatch(/same name/);
		const otherDomain = base({
			referrer: { id: 'alice', email: 'alice@corp.example', name: 'Zoë Müller' },
			referee: { email: 'zm@other.example', name: 'Zoe Muller' },
		});
		expect(checkSelfReferral(otherDomain, policy)).toBeNull();
	});
});

describe('duplicate referee', () => {
	it('fires for an existing customer', () => {
		expect(
			checkDuplicateReferee(base({ referee: { existingCustomer: true } }), policy)?.reason,
		).toBe('duplicate_referee');
	});

	it('fires when the referee already converted through another referral', () => {
		const input = base({
			refereePriorReferrals: [{ referralId: 'r-old', referrerId: 'carol', status: 'qualified' }],
		});
		expect(checkDuplicateReferee(input, policy)?.detail).toContain('r-old');
	});

	it('leaves pending or rejected earlier referrals to attribution, and ignores itself', () => {
		const input = base({
			refereePriorReferrals: [
				{ referralId: 'r-old', referrerId: 'carol', status: 'pending' },
				{ referralId: 'r-bad', referrerId: 'dave', status: 'rejected' },
				{ referralId: 'r-new', referrerId: 'alice', status: 'qualified' },
			],
		});
		expect(checkDuplicateReferee(input, policy)).toBeNull();
	});
});

describe('disposable email', () => {
	it('fires for a listed domain and its subdomains', () => {
		expect(
			checkDisposableEmail(base({ referee: { email: 'x@mailinator.com' } }), policy)?.detail,
		).toContain('mailinator.com');
		expect(
			checkDisposableEmail(base({ referee: { email: 'x@eu.mailinator.com' } }), policy),
		).not.toBeNull();
	});

	it('is silent for a normal domain, a missing email, or an allow-listed domain', () => {
		expect(checkDisposableEmail(base(), policy)).toBeNull();
		expect(checkDisposableEmail(base({ referee: {} }), policy)).toBeNull();
		const allow = validateFraudPolicy({ disposable: { allowDomains: ['mailinator.com'] } });
		expect(
			checkDisposableEmail(base({ referee: { email: 'x@mailinator.com' } }), allow),
		).toBeNull();
	});

	it("uses the program's extra domains", () => {
		const extra = validateFraudPolicy({ disposable: { extraDomains: ['burner.example'] } });
		expect(
			checkDisposableEmail(base({ referee: { email: 'x@burner.example' } }), extra),
		).not.toBeNull();
	});
});

describe('same ip and same device', () => {
	it("fires when the referee uses the referrer's ip or device", () => {
		const ip = base({ referrer: { id: 'alice', ipHash: 'h1' }, referee: { ipHash: 'h1' } });
		expect(checkSameIp(ip, policy)?.reason).toBe('same_ip');
		const device = base({
			referrer: { id: 'alice', deviceHash: 'd1' },
			referee: { deviceHash: 'd1' },
		});
		expect(checkSameDevice(device, policy)).toMatchObject({
			check: 'same_device',
			reason: 'same_device',
			score: 50,
		});
	});

	it('never fires on a shared user agent alone; it only strengthens a same-ip finding (issue #13.7)', () => {
		const safari = base({
			referrer: { id: 'alice', ipHash: 'ip-a', userAgentHash: 'ua-safari' },
			referee: { ipHash: 'ip-b', userAgentHash: 'ua-safari' },
		});
		expect(checkSameIp(safari, policy)).toBeNull();
		expect(checkSameDevice(safari, policy)).toBeNull();
		expect(assessReferral(safari, policy)).toMatchObject({
			decision: 'allow',
			riskScore: 0,
			reasonCodes: [],
		});
		const sameIp = base({
			referrer: { id: 'alice', ipHash: 'ip-a', userAgentHash: 'ua-safari' },
			referee: { ipHash: 'ip-a', userAgentHash: 'ua-safari' },
		});
		expect(checkSameIp(sameIp, policy)).toMatchObject({
			reason: 'same_ip',
			score: 40,
			detail: expect.stringContaining('same browser'),
		});
	});

	it('does not treat two missing hashes as equal', () => {
		expect(checkSameIp(base({ referrer: { id: 'alice' }, referee: {} }), policy)).toBeNull();
		expect(
			checkSameIp(base({ referrer: { id: 'alice', ipHash: '' }, referee: { ipHash: '' } }), policy),
		).toBeNull();
	});

	it('counts other sign-ups inside the window, edge included, and not outside', () => {
		const window = policy.sameIpWindowHours * HOUR;
		expect(
			checkSameIp(base({ sameIpSignUps: [{ referralId: 'r1', at: T0 - window }] }), policy),
		).not.toBeNull();
		expect(
			checkSameIp(base({ sameIpSignUps: [{ referralId: 'r1', at: T0 + window }] }), policy),
		).not.toBeNull();
		expect(
			checkSameIp(base({ sameIpSignUps: [{ referralId: 'r1', at: T0 - window - 1 }] }), policy),
		).toBeNull();
		expect(
			checkSameIp(base({ sameIpSignUps: [{ referralId: 'r-new', at: T0 }] }), policy),
		).toBeNull();
	});

	it('tolerates the allowed number of shared-ip sign-ups exactly', () => {
		const lenient = validateFraudPolicy({ sameIpAllowed: 2 });
		const two = [{ at: T0 - 1 }, { at: T0 - 2 }];
		expect(checkSameIp(base({ sameIpSignUps: two }), lenient)).toBeNull();
		expect(checkSameIp(base({ sameIpSignUps: [...two, { at: T0 - 3 }] }), lenient)?.detail).toMatch(
			/3 other sign-up/,
		);
	});

	it('uses the device window for devices', () => {
		const p = validateFraudPolicy({ sameDeviceWindowHours: 1 });
		expect(checkSameDevice(base({ sameDeviceSignUps: [{ at: T0 - HOUR }] }), p)).not.toBeNull();
		expect(checkSameDevice(base({ sameDeviceSignUps: [{ at: T0 - HOUR - 1 }] }), p)).toBeNull();
	});
});

describe('velocity', () => {
	const p = validateFraudPolicy({ velocityPerHour: 3, velocityPerDay: 5 });

	it('allows exactly the limit and fires one above it (this referral included)', () => {
		expect(checkVelocity(base({ referrerRecent: { lastHour: 2, lastDay: 2 } }), p)).toBeNull();
		expect(checkVelocity(base({ referrerRecent: { lastHour: 3, lastDay: 3 } }), p)?.detail).toMatch(
			/4 referrals within an hour \(limit 3\)/,
		);
		expect(checkVelocity(base({ referrerRecent: { lastHour: 0, lastDay: 4 } }), p)).toBeNull();
		expect(checkVelocity(base({ referrerRecent: { lastHour: 0, lastDay: 5 } }), p)?.detail).toMatch(
			/6 referrals within a day/,
		);
	});

	it('is silent without counts', () => {
		expect(checkVelocity(base(), p)).toBeNull();
	});
});

describe('referral rings', () => {
	const edges = (pairs: string[]): ReferralEdge[] =>
		pairs.map((p) => {
			const [referrerId, refereeId] = p.split('>');
			return { referrerId, refereeId };
		});

	it('finds A→B→A', () => {
		expect(findRing(edges(['bob>alice']), 'alice', 'bob', 6)).toEqual(['alice', 'bob', 'alice']);
	});

	it('finds longer rings and reports the shortest', () => {
		const g = edges(['bob>carol', 'carol>dave', 'dave>alice', 'bob>erin', 'erin>alice']);
		expect(findRing(g, 'alice', 'bob', 6)).toEqual(['alice', 'bob', 'erin', 'alice']);
	});

	it('respects the depth bound exactly', () => {
		// bob → c1 → c2 → c3 → alice: a path of 4 referrals.
		const g = edges(['bob>c1', 'c1>c2', 'c2>c3', 'c3>alice']);
		expect(findRing(g, 'alice', 'bob', 4)).toEqual(['alice', 'bob', 'c1', 'c2', 'c3', 'alice']);
		expect(findRing(g, 'alice', 'bob', 3)).toBeNull();
	});

	it('ignores chains that do not come back, and terminates on cycles elsewhere', () => {
		const g = edges(['bob>carol', 'carol>dave', 'dave>carol', 'alice>erin']);
		expect(findRing(g, 'alice', 'bob', 6)).toBeNull();
	});

	it('checkRing explains the ring and needs the referee id', () => {
		const input = base({ graphEdges: edges(['bob>carol', 'carol>alice']) });
		expect(checkRing(input, policy)?.detail).toBe(
			'This referral closes a referral ring of 3 participants: alice → bob → carol → alice.',
		);
		expect(checkRing(base({ referee: {}, graphEdges: edges(['bob>alice']) }), policy)).toBeNull();
	});
});

describe('code checks', () => {
	it('maps unknown, revoked, expired and used-up codes to hard reasons', () => {
		expect(checkCode(null, T0)?.reason).toBe('unknown_code');
		expect(checkCode({ status: 'unknown' }, T0)?.reason).toBe('unknown_code');
		expect(checkCode({ status: 'revoked' }, T0)?.reason).toBe('code_revoked');
		expect(checkCode({ status: 'expired' }, T0)?.reason).toBe('code_expired');
		expect(checkCode({ status: 'exhausted' }, T0)?.reason).toBe('code_expired');
		expect(checkCode({ status: 'active', expiresAt: T0 }, T0)?.reason).toBe('code_expired');
		expect(checkCode({ status: 'active', expiresAt: T0 + 1 }, T0)).toBeNull();
		expect(checkCode(undefined, T0)).toBeNull();
		expect(checkCode({ status: 'revoked' }, T0)?.hard).toBe(true);
	});
});

describe('assessReferral', () => {
	it('allows a clean referral with score 0 and no reasons', () => {
		expect(assessReferral(base(), policy)).toEqual({
			riskScore: 0,
			decision: 'allow',
			reasons: [],
			reasonCodes: [],
		});
	});

	it('flags a shared ip (score 30 = flag threshold) and shows the reason', () => {
		const result = assessReferral(base({ sameIpSignUps: [{ at: T0 - HOUR }] }), policy);
		expect(result.riskScore).toBe(30);
		expect(result.decision).toBe('flag');
		expect(result.reasonCodes).toEqual(['same_ip']);
		expect(result.reasons[0].detail).toMatch(/same ip/);
	});

	it('adds scores, caps them at 100 and blocks at the block threshold', () => {
		const result = assessReferral(
			base({
				referee: { id: 'bob', email: 'bob@mailinator.com', ipHash: 'x' },
				referrer: { id: 'alice', ipHash: 'x' },
				referrerRecent: { lastHour: 100, lastDay: 100 },
			}),
			policy,
		);
		expect(result.reasons.map((r) => r.check)).toEqual(['disposable_email', 'same_ip', 'velocity']);
		expect(result.riskScore).toBe(100);
		expect(result.decision).toBe('block');
		expect(result.reasonCodes).toEqual(['disposable_email', 'same_ip', 'velocity']);
	});

	it('reports same_ip and same_device, each with its own code, when both ip and device id match', () => {
		const result = assessReferral(
			base({
				referrer: { id: 'alice', ipHash: 'x', deviceHash: 'd' },
				referee: { id: 'bob', ipHash: 'x', deviceHash: 'd' },
			}),
			policy,
		);
		expect(result.reasons).toHaveLength(2);
		expect(result.reasonCodes).toEqual(['same_ip', 'same_device']);
		expect(result.riskScore).toBe(80);
		expect(result.decision).toBe('block');
	});

	it('blocks a code problem whatever the score', () => {
		const result = assessReferral(base({ code: { status: 'revoked' } }), policy);
		expect(result.riskScore).toBe(0);
		expect(result.decision).toBe('block');
		expect(result.reasonCodes).toEqual(['code_revoked']);
	});

	it('honours disabled checks and custom weights', () => {
		const input = base({ referee: { id: 'bob', email: 'b@mailinator.com' } });
		expect(
			assessReferral(input, { checks: { disposable_email: { enabled: false } } }).decision,
		).toBe('allow');
		expect(assessReferral(input, { checks: { disposable_email: { weight: 90 } } }).decision).toBe(
			'block',
		);
		expect(assessReferral(input, { checks: { disposable_email: { weight: 29 } } }).decision).toBe(
			'allow',
		);
	});

	it('blocks self-referral and rings by default policy', () => {
		expect(assessReferral(base({ referee: { id: 'alice' } })).decision).toBe('block');
		const ring = assessReferral(base({ graphEdges: [{ referrerId: 'bob', refereeId: 'alice' }] }));
		expect(ring.decision).toBe('flag');
		expect(ring.reasonCodes).toEqual(['ring']);
	});

	it('refuses malformed input naming the field', () => {
		expect(engineError(() => assessReferral({ ...base(), at: 'yesterday' as never })).field).toBe(
			'at',
		);
		expect(engineError(() => assessReferral({ ...base(), referrer: {} as never })).field).toBe(
			'referrer.id',
		);
		expect(
			engineError(() => assessReferral(base({ referrerRecent: { lastHour: -1, lastDay: 0 } })))
				.field,
		).toBe('referrerRecent.lastHour');
		expect(engineError(() => assessReferral(base({ graphEdges: 'a>b' as never }))).field).toBe(
			'graphEdges',
		);
	});
});

describe('fraud policy validation', () => {
	it('fills defaults', () => {
		expect(validateFraudPolicy(undefined)).toEqual(DEFAULT_FRAUD_POLICY);
		const p = validateFraudPolicy({ checks: { ring: { weight: 10 } } });
		expect(p.checks.ring).toEqual({ enabled: true, weight: 10 });
		expect(p.checks.self_referral).toEqual(DEFAULT_FRAUD_POLICY.checks.self_referral);
	});

	it.each([
		[{ flagThreshold: 0 }, 'flagThreshold'],
		[{ flagThreshold: 50, blockThreshold: 40 }, 'blockThreshold'],
		[{ blockThreshold: 101 }, 'blockThreshold'],
		[{ checks: { ring: { weight: -1 } } }, 'checks.ring.weight'],
		[{ checks: { ring: { enabled: 'yes' } } }, 'checks.ring.enabled'],
		[{ checks: { phone: { weight: 1 } } }, 'checks'],
		[{ sameIpWindowHours: 0 }, 'sameIpWindowHours'],
		[{ sameIpAllowed: -1 }, 'sameIpAllowed'],
		[{ sameIpAllowed: 1.5 }, 'sameIpAllowed'],
		[{ velocityPerHour: 0 }, 'velocityPerHour'],
		[{ velocityPerHour: 10, velocityPerDay: 5 }, 'velocityPerDay'],
		[{ ringMaxDepth: 0 }, 'ringMaxDepth'],
		[{ ringMaxDepth: 50 }, 'ringMaxDepth'],
		[{ disposable: { extraDomains: ['not a domain'] } }, 'disposable.extraDomains'],
		[{ disposable: { allowDomains: 'x.com' } }, 'disposable.allowDomains'],
		[{ stripTagsForAllDomains: 'no' }, 'stripTagsForAllDomains'],
	])('refuses %j naming %s', (input, field) => {
		const error = engineError(() => validateFraudPolicy(input));
		expect(error.code).toBe('invalid_fraud_policy');
		expect(error.field).toBe(field);
	});
});

describe('hashing ip and user agent', () => {
	const salt = 'program-salt-0123456789';

	it('is a keyed, stable, kind-separated hash', () => {
		const h = hashIp('203.0.113.7', salt);
		expect(h).toMatch(/^[0-9a-f]{64}$/);
		expect(hashIp(' 203.0.113.7 ', salt)).toBe(h);
		expect(hashIp('::ffff:203.0.113.7', salt)).toBe(h);
		expect(hashIp('203.0.113.7', 'another-salt-0123456789')).not.toBe(h);
		expect(hashUserAgent('203.0.113.7', salt)).not.toBe(h);
		expect(h).not.toContain('203');
	});

	it('normalizes IPv6 spellings it can', () => {
		expect(normalizeIp('[FE80::1%eth0]')).toBe('fe80::1');
		expect(hashIp('2001:DB8::1', salt)).toBe(hashIp('2001:db8::1', salt));
	});

	it('refuses a missing or short salt', () => {
		const error = engineError(() => hashIp('203.0.113.7', 'short'));
		expect(error.code).toBe('weak_salt');
		expect(error.field).toBe('salt');
		expect(engineError(() => hashUserAgent('', salt)).field).toBe('userAgent');
	});
});
