/* Row mappers: database rows (snake_case, numbers as the driver returns them) to the records of store.ts. */
import type { Row } from './sql';
import type {
	CodeRecord,
	CodeState,
	ConversionRecord,
	CouponRecord,
	LedgerEvent,
	MessageRecord,
	ParticipantRecord,
	PointsEntry,
	ProgramRecord,
	ReferralRecord,
	RewardKind,
	RewardRecord,
	RewardSide,
	RewardStatus,
	ScoringModelRecord,
	StatusChange,
	SuppressionRecord,
} from './store';

export const n = (value: unknown): number => Number(value);
export const nOrNull = (value: unknown): number | null =>
	value === null || value === undefined ? null : Number(value);
export const s = (value: unknown): string => String(value);
export const sOrNull = (value: unknown): string | null =>
	value === null || value === undefined ? null : String(value);
export const obj = (value: unknown): Record<string, unknown> =>
	value ? (JSON.parse(String(value)) as Record<string, unknown>) : {};

export function toParticipantOrUndefined(r: Row | undefined): ParticipantRecord | undefined {
	return r ? toParticipant(r) : undefined;
}

export function toParticipant(r: Row): ParticipantRecord {
	return {
		id: n(r.id),
		programId: s(r.program_id),
		externalId: sOrNull(r.external_id),
		email: sOrNull(r.email),
		phone: sOrNull(r.phone),
		name: sOrNull(r.name),
		metadata: obj(r.metadata),
		erasedAt: nOrNull(r.erased_at),
		createdAt: n(r.created_at),
		updatedAt: n(r.updated_at),
	};
}

export function codeState(r: Row, now: number): CodeState {
	if (r.status === 'revoked') return 'revoked';
	if (r.expires_at !== null && n(r.expires_at) <= now) return 'expired';
	if (r.max_uses !== null && n(r.uses) >= n(r.max_uses)) return 'exhausted';
	return 'active';
}

export function toCode(r: Row, now: number): CodeRecord {
	return {
		id: n(r.id),
		programId: s(r.program_id),
		code: s(r.code),
		ownerId: nOrNull(r.owner_id),
		status: r.status === 'revoked' ? 'revoked' : 'active',
		state: codeState(r, now),
		expiresAt: nOrNull(r.expires_at),
		maxUses: nOrNull(r.max_uses),
		uses: n(r.uses),
		revokedReason: sOrNull(r.revoked_reason),
		createdAt: n(r.created_at),
		updatedAt: n(r.updated_at),
	};
}

export function toReferral(r: Row): ReferralRecord {
	return {
		id: n(r.id),
		programId: s(r.program_id),
		referrerId: n(r.referrer_id),
		refereeId: nOrNull(r.referee_id),
		codeId: nOrNull(r.code_id),
		source: sOrNull(r.source),
		touchedAt: n(r.touched_at),
		ipHash: sOrNull(r.ip_hash),
		deviceHash: sOrNull(r.device_hash),
		status: s(r.status),
		reasons: JSON.parse(s(r.reasons)) as string[],
		riskScore: nOrNull(r.risk_score),
		metadata: obj(r.metadata),
		qualifiedAt: nOrNull(r.qualified_at),
		clickId: nOrNull(r.click_id),
		createdAt: n(r.created_at),
		updatedAt: n(r.updated_at),
	};
}

export function toChange(r: Row): StatusChange {
	return {
		id: n(r.id),
		from: sOrNull(r.from_status),
		to: s(r.to_status),
		reason: sOrNull(r.reason),
		at: n(r.at),
	};
}

export function toConversion(r: Row): ConversionRecord {
	return {
		id: n(r.id),
		programId: s(r.program_id),
		referralId: n(r.referral_id),
		orderId: s(r.order_id),
		amount: nOrNull(r.amount),
		currency: sOrNull(r.currency),
		occurredAt: n(r.occurred_at),
		createdAt: n(r.created_at),
		referralStatus: sOrNull(r.referral_status),
	};
}

export function toReward(r: Row): RewardRecord {
	return {
		id: n(r.id),
		programId: s(r.program_id),
		recipientId: n(r.recipient_id),
		referralId: nOrNull(r.referral_id),
		side: s(r.side) as RewardSide,
		rule: s(r.rule),
		kind: s(r.kind) as RewardKind,
		amount: nOrNull(r.amount),
		currency: sOrNull(r.currency),
		status: s(r.status) as RewardStatus,
		holdUntil: nOrNull(r.hold_until),
		idempotencyKey: s(r.idempotency_key),
		metadata: obj(r.metadata),
		createdAt: n(r.created_at),
		updatedAt: n(r.updated_at),
	};
}

export function toEntry(r: Row): PointsEntry {
	return {
		id: n(r.id),
		programId: s(r.program_id),
		participantId: n(r.participant_id),
		delta: n(r.delta),
		balanceAfter: n(r.balance_after),
		reason: sOrNull(r.reason),
		rewardId: nOrNull(r.reward_id),
		idempotencyKey: s(r.idempotency_key),
		createdAt: n(r.created_at),
	};
}

export function toCoupon(r: Row): CouponRecord {
	return {
		id: n(r.id),
		programId: s(r.program_id),
		pool: s(r.pool),
		code: s(r.code),
		status: r.status === 'claimed' ? 'claimed' : 'available',
		claimedBy: nOrNull(r.claimed_by),
		rewardId: nOrNull(r.reward_id),
		claimedAt: nOrNull(r.claimed_at),
		createdAt: n(r.created_at),
	};
}

export function toEvent(r: Row): LedgerEvent {
	return {
		id: n(r.id),
		programId: sOrNull(r.program_id),
		type: s(r.type),
		payload: obj(r.payload),
		createdAt: n(r.created_at),
	};
}

export function toSuppression(r: Row): SuppressionRecord {
	return {
		channel: s(r.channel),
		address: s(r.address),
		reason: sOrNull(r.reason),
		createdAt: n(r.created_at),
	};
}

export function toMessage(r: Row): MessageRecord {
	return {
		id: n(r.id),
		idempotencyKey: s(r.idempotency_key),
		programId: sOrNull(r.program_id),
		participantId: nOrNull(r.participant_id),
		channel: s(r.channel),
		recipient: s(r.recipient),
		status: s(r.status) as MessageRecord['status'],
		providerId: sOrNull(r.provider_id),
		error: sOrNull(r.error),
		attempts: n(r.attempts),
		createdAt: n(r.created_at),
		updatedAt: n(r.updated_at),
		topic: sOrNull(r.topic),
		group: sOrNull(r.msg_group),
		data: r.payload === null || r.payload === undefined ? null : obj(r.payload),
		dueAt: nOrNull(r.due_at),
		claimedUntil: nOrNull(r.claimed_until),
		handedOverAt: nOrNull(r.handed_over_at),
	};
}

export function toModel(r: Row): ScoringModelRecord {
	return {
		name: s(r.name),
		model: JSON.parse(s(r.model)),
		version: n(r.version),
		updatedAt: n(r.updated_at),
	};
}

export function toProgram(r: Row): ProgramRecord {
	return {
		id: s(r.id),
		name: s(r.name),
		settings: obj(r.settings),
		createdAt: n(r.created_at),
		updatedAt: n(r.updated_at),
	};
}
