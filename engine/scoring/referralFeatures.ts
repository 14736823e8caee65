import { EngineError } from '../shared/errors';
import type { LedgerStore } from '../ledger';

/** What the ledger knows about a lead as a referrer, for rules such as "referral.qualified ≥ 3". */
export interface ReferralFeatures {
	enrolled: boolean;
	/** Referrals the lead made (every status). */
	made: number;
	/** Referrals the lead made that qualified (qualified or rewarded). */
	qualified: number;
	points: number;
	/** The newest tier awarded and not reversed, or null. */
	tier: string | null;
	badges: string[];
}

const EMPTY: ReferralFeatures = {
	enrolled: false,
	made: 0,
	qualified: 0,
	points: 0,
	tier: null,
	badges: [],
};

function rewardName(reward: { rule: string; metadata: Record<string, unknown> }): string {
	const named = reward.metadata.name ?? reward.metadata.tier ?? reward.metadata.badge;
	return typeof named === 'string' && named !== '' ? named : reward.rule;
}

/** Reads a participant's referral figures by email; a lead who is not enrolled gets zeros. */
export async function referralFeatures(
	ledger: LedgerStore,
	programId: string,
	email: unknown,
): Promise<ReferralFeatures> {
	if (email === undefined || email === null || email === '') return { ...EMPTY, badges: [] };
	if (typeof email !== 'string') {
		throw new EngineError(
			'invalid_type',
			`The participant email must be text, got ${typeof email}`,
			{ field: 'emailField' },
		);
	}
	const participant = await ledger.getParticipant({ programId, email: email.trim().toLowerCase() });
	if (!participant) return { ...EMPTY, badges: [] };
	const [counts, points, rewards] = await Promise.all([
		ledger.countReferrals({ programId, referrerId: participant.id }),
		ledger.pointsBalance({ programId, participantId: participant.id }),
		ledger.listRewards({ programId, recipientId: participant.id, limit: 1000 }),
	]);
	const held = rewards.filter((r) => r.status !== 'reversed');
	const tiers = held
		.filter((r) => r.kind === 'tier')
		.sort((a, b) => b.createdAt - a.createdAt || b.id - a.id);
	return {
		enrolled: true,
		made: counts.total,
		qualified: counts.byStatus.qualified ?? 0,
		points,
		tier: tiers.length > 0 ? rewardName(tiers[0]) : null,
		badges: [...new Set(held.filter((r) => r.kind === 'badge').map(rewardName))],
	};
}
