/* A referral program with one participant worth a page (Ann) and people around her, for the
 * participant page tests (engine, node harness, real n8n): Ann referred Bob (named, qualified), Carol
 * (no name: masked email) and a referee whose account was erased; Eve referred Dave, whom Ann's page
 * must never name. Ann holds points, a pending coupon on hold, a tier of a ladder and a badge. */
import type { LedgerStore } from '../../engine/ledger';
import { ReferralService, saveReferralProgram } from '../../engine/referrals';

export const PORTAL_PROGRAM = 'portal';
const DEFAULT_PROGRAM = PORTAL_PROGRAM;
export const LANDING = 'https://shop.example.com/join';
const DAY = 24 * 60 * 60 * 1000;

export interface PortalSeed {
	annId: number;
	annCode: string;
	/** Everything of other people that must never be on Ann's page. */
	secrets: string[];
}

export async function seedPortal(
	ledger: LedgerStore,
	options: {
		locale?: string;
		shareTexts?: Record<string, string>;
		now?: number;
		programId?: string;
	} = {},
): Promise<PortalSeed> {
	const now = options.now ?? Date.now();
	const PORTAL_PROGRAM = options.programId ?? DEFAULT_PROGRAM;
	await saveReferralProgram(ledger, {
		programId: PORTAL_PROGRAM,
		name: 'Acme Friends',
		share: { baseUrl: LANDING, codeParameter: 'ref', utmSource: 'referral-program' },
		...(options.locale ? { locale: options.locale } : {}),
		...(options.shareTexts ? { shareTexts: options.shareTexts } : {}),
	});
	const service = await ReferralService.open(ledger, PORTAL_PROGRAM);
	const ann = await service.enrol({ email: 'ann@example.com', name: 'Ann Smith' });
	const annId = ann.participant.id;
	const annCode = ann.participant.code!;
	const at = (days: number) => new Date(now - days * DAY).toISOString();
	await service.enrol({
		email: 'bob.jones@example.org',
		name: 'Bob Jones',
		phone: '+4915112345678',
		referralCode: annCode,
		at: at(10),
	});
	await service.enrol({ email: 'carol@example.net', referralCode: annCode, at: at(5) });
	const gone = await service.enrol({
		email: 'gone.person@example.org',
		name: 'Gone Person',
		referralCode: annCode,
		at: at(3),
	});
	await service.eraseParticipant({ participantId: gone.participant.id });
	const eve = await service.enrol({ email: 'eve@example.com', name: 'Eve Evans' });
	await service.enrol({
		email: 'dave.dawson@example.com',
		name: 'Dave Dawson',
		referralCode: eve.participant.code!,
	});
	await service.qualify({
		email: 'bob.jones@example.org',
		orderId: 'order-bob-1',
		amount: 80,
		currency: 'EUR',
		at: at(9),
	});
	const award = async (input: Omit<Parameters<LedgerStore['awardReward']>[0], 'programId'>) =>
		await ledger.awardReward({ programId: PORTAL_PROGRAM, ...input });
	await award({
		recipientId: annId,
		side: 'referrer',
		rule: 'per-referral-points',
		kind: 'points',
		amount: 150,
		status: 'approved',
		metadata: { points: 150, earnedAt: now - 9 * DAY },
		points: { delta: 150, reason: 'referral' },
		idempotencyKey: 'seed-points',
	});
	await award({
		recipientId: annId,
		side: 'referrer',
		rule: 'coupon',
		kind: 'coupon',
		amount: 10,
		currency: 'EUR',
		status: 'pending',
		holdUntil: now + 14 * DAY,
		metadata: { earnedAt: now - 9 * DAY },
		idempotencyKey: 'seed-coupon',
	});
	const ladder = [
		{ name: 'Bronze', min: 1, whenBelowMinimum: 'demote' },
		{ name: 'Silver', min: 3, whenBelowMinimum: 'demote' },
		{ name: 'Gold', min: 5, whenBelowMinimum: 'demote' },
	];
	await award({
		recipientId: annId,
		side: 'participant',
		rule: 'levels',
		kind: 'tier',
		status: 'approved',
		metadata: {
			tier: 'Bronze',
			earnedAt: now - 9 * DAY,
			standing: { metric: 'qualified_referrals', min: 1, whenBelowMinimum: 'demote', ladder },
		},
		idempotencyKey: 'seed-tier',
	});
	await award({
		recipientId: annId,
		side: 'participant',
		rule: 'first-friend',
		kind: 'badge',
		status: 'approved',
		metadata: { badge: 'First Friend', earnedAt: now - 9 * DAY },
		idempotencyKey: 'seed-badge',
	});
	return {
		annId,
		annCode,
		secrets: [
			'bob.jones@example.org',
			'Jones',
			'+4915112345678',
			'carol@example.net',
			'gone.person',
			'Gone Person',
			'Evans',
			'eve@example.com',
			'Dave',
			'dave.dawson',
			eve.participant.code!,
		],
	};
}
