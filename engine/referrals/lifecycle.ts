import { EngineError } from '../shared/errors';
import { describe } from '../shared/guards';

/**
 * The referral state machine, in one table.
 *
 *   recorded ──accept──▶ pending ──qualify──▶ qualified ──reverse──▶ reversed
 *      │                   │
 *      ├──flag──▶ flagged ◀┘flag
 *      │            ├──approve──▶ approved ──resume──▶ pending
 *      │            │                  └─────qualify──▶ qualified
 *      │            └──reject──▶ rejected
 *      └──block──▶ rejected            (pending ──reject──▶ rejected too)
 *
 * `approved` means "a reviewer cleared this flagged referral". It is a short waypoint that
 * goes straight back into the normal path: to `pending` when the referee has not converted
 * yet, or to `qualified` when the conversion arrived while the referral was held for review.
 * Publicly (webhooks, node output) `approved` therefore shows as `pending`; the history keeps
 * the approval with its reason.
 *
 * A qualified referral stays `qualified` when its rewards are planned: rewards are separate records
 * with their own status (an older `rewarded` status was never reached and is gone).
 */

export const REFERRAL_STATUSES = [
	'recorded',
	'pending',
	'flagged',
	'approved',
	'rejected',
	'qualified',
	'reversed',
] as const;
export type ReferralStatus = (typeof REFERRAL_STATUSES)[number];

/** The statuses of the public webhook contract. */
export const PUBLIC_REFERRAL_STATUSES = [
	'pending',
	'flagged',
	'rejected',
	'qualified',
	'reversed',
] as const;
export type PublicReferralStatus = (typeof PUBLIC_REFERRAL_STATUSES)[number];

/** The reason codes of the public webhook contract. */
export const REASON_CODES = [
	'self_referral',
	'duplicate_referee',
	'unknown_code',
	'code_expired',
	'code_revoked',
	'disposable_email',
	'same_ip',
	'same_device',
	'velocity',
	'ring',
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];

export const REFERRAL_EVENTS = [
	'accept',
	'flag',
	'block',
	'qualify',
	'approve',
	'reject',
	'resume',
	'reverse',
] as const;
export type ReferralEvent = (typeof REFERRAL_EVENTS)[number];

export interface ReferralTransition {
	from: ReferralStatus;
	event: ReferralEvent;
	to: ReferralStatus;
}

/** Every legal move. Anything not listed here is illegal. */
export const REFERRAL_TRANSITIONS: readonly ReferralTransition[] = Object.freeze([
	{ from: 'recorded', event: 'accept', to: 'pending' },
	{ from: 'recorded', event: 'flag', to: 'flagged' },
	{ from: 'recorded', event: 'block', to: 'rejected' },
	{ from: 'pending', event: 'qualify', to: 'qualified' },
	{ from: 'pending', event: 'flag', to: 'flagged' },
	{ from: 'pending', event: 'reject', to: 'rejected' },
	{ from: 'flagged', event: 'approve', to: 'approved' },
	{ from: 'flagged', event: 'reject', to: 'rejected' },
	{ from: 'approved', event: 'resume', to: 'pending' },
	{ from: 'approved', event: 'qualify', to: 'qualified' },
	{ from: 'qualified', event: 'reverse', to: 'reversed' },
] satisfies ReferralTransition[]);

const PUBLIC_OF: Record<ReferralStatus, PublicReferralStatus> = {
	recorded: 'pending',
	pending: 'pending',
	flagged: 'flagged',
	approved: 'pending',
	rejected: 'rejected',
	qualified: 'qualified',
	reversed: 'reversed',
};

export function isReferralStatus(value: unknown): value is ReferralStatus {
	return typeof value === 'string' && (REFERRAL_STATUSES as readonly string[]).includes(value);
}

export function isReasonCode(value: unknown): value is ReasonCode {
	return typeof value === 'string' && (REASON_CODES as readonly string[]).includes(value);
}

/** Accepts a status from outside (a node parameter, a stored row); trims and lower-cases it. */
export function parseReferralStatus(value: unknown, field = 'status'): ReferralStatus {
	const text = typeof value === 'string' ? value.trim().toLowerCase() : value;
	if (!isReferralStatus(text)) {
		throw new EngineError(
			'unknown_status',
			`${field} must be one of ${REFERRAL_STATUSES.join(', ')} (got ${describe(value)}).`,
			{ field, details: { allowed: [...REFERRAL_STATUSES] } },
		);
	}
	return text;
}

/** What the webhook contract and node output show for an internal status. */
export function publicStatus(status: ReferralStatus): PublicReferralStatus {
	return PUBLIC_OF[parseReferralStatus(status)];
}

/** The internal statuses that show as one public status, e.g. for filtering a list by what the user sees. */
export function internalStatusesFor(status: PublicReferralStatus): ReferralStatus[] {
	return REFERRAL_STATUSES.filter((s) => PUBLIC_OF[s] === status);
}

export function legalTargets(from: ReferralStatus): ReferralStatus[] {
	return REFERRAL_TRANSITIONS.filter((t) => t.from === from).map((t) => t.to);
}

export function canTransition(from: ReferralStatus, to: ReferralStatus): boolean {
	return REFERRAL_TRANSITIONS.some((t) => t.from === from && t.to === to);
}

export function isTerminal(status: ReferralStatus): boolean {
	return legalTargets(status).length === 0;
}

function illegal(from: ReferralStatus, attempted: string): EngineError {
	const targets = legalTargets(from);
	const legal =
		targets.length === 0
			? `"${from}" is final, nothing can follow it`
			: `from "${from}" a referral can only go to ${targets.map((t) => `"${t}"`).join(', ')}`;
	return new EngineError(
		'illegal_transition',
		`A referral cannot go from "${from}" to ${attempted}: ${legal}.`,
		{
			field: 'status',
			details: { from, attempted, legalTargets: targets },
		},
	);
}

/** Throws `illegal_transition` unless from → to is in the table; returns the event name of the move. */
export function assertTransition(from: ReferralStatus, to: ReferralStatus): ReferralEvent {
	const source = parseReferralStatus(from, 'from');
	const target = parseReferralStatus(to, 'to');
	const move = REFERRAL_TRANSITIONS.find((t) => t.from === source && t.to === target);
	if (!move) throw illegal(source, `"${target}"`);
	return move.event;
}

/** The status an event leads to from `from`; throws `illegal_transition` when the event does not apply. */
export function nextStatus(from: ReferralStatus, event: ReferralEvent): ReferralStatus {
	const source = parseReferralStatus(from, 'from');
	const move = REFERRAL_TRANSITIONS.find((t) => t.from === source && t.event === event);
	if (!move) throw illegal(source, `"${String(event)}" (event)`);
	return move.to;
}

export interface ReferralHistoryEntry {
	from: ReferralStatus;
	to: ReferralStatus;
	event: ReferralEvent;
	at: number;
	reasons: ReasonCode[];
	note?: string;
}

/** Checks a move and returns the history row the ledger appends for it. */
export function transition(
	from: ReferralStatus,
	to: ReferralStatus,
	at: number,
	reasons: readonly ReasonCode[] = [],
	note?: string,
): ReferralHistoryEntry {
	const event = assertTransition(from, to);
	for (const reason of reasons) {
		if (!isReasonCode(reason)) {
			throw new EngineError(
				'unknown_reason',
				`reasons must be among ${REASON_CODES.join(', ')} (got ${describe(reason)}).`,
				{ field: 'reasons' },
			);
		}
	}
	const entry: ReferralHistoryEntry = { from, to, event, at, reasons: [...reasons] };
	if (note !== undefined) entry.note = note;
	return entry;
}

/**
 * Where a flagged referral goes once a reviewer approves it (through `approved`): back into the
 * normal path, straight to `qualified` if its conversion already arrived while it was held.
 */
export function afterApproval(conversionAlreadyReceived: boolean): ReferralStatus {
	return conversionAlreadyReceived ? 'qualified' : 'pending';
}

/** The status a freshly `recorded` referral moves to, given the fraud decision. */
export function statusForDecision(decision: 'allow' | 'flag' | 'block'): ReferralStatus {
	if (decision === 'allow') return 'pending';
	if (decision === 'flag') return 'flagged';
	return 'rejected';
}
