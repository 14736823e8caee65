import { checkVanityCode, type CodeGenerator } from '../codes';
import { EngineError } from '../shared/errors';
import { DAY_MS } from '../shared/time';
import type { Id, IssueCodeResult, LedgerStore } from '../ledger/store';

/**
 * Issuing a referral code to its owner (the Referral Code node's Issue): who owns it (nobody for a
 * campaign code; a participant named by email or external ID is enrolled first, one named by
 * ledger ID is taken as is), how long it lasts and how often it can be used, and a vanity code the
 * participant chose instead of a generated one. The ledger issues one code per owner (its default
 * key), so a replay answers with the same code and `replayed: true`.
 *
 * Errors name the Issue operation's parameters (`ownerField`, `expiresInDays`, `maxUses`,
 * `vanityField`), which is what the node shows them under.
 */

export const CODE_OWNER_KINDS = ['none', 'email', 'externalId', 'id'] as const;
export type CodeOwnerKind = (typeof CODE_OWNER_KINDS)[number];

export interface IssueReferralCodeInput {
	programId: string;
	generator: CodeGenerator;
	/** How `owner` names the owner; `none` issues a campaign code with no owner. */
	ownerBy: CodeOwnerKind | string;
	/** The owner's email, external ID or participant ID (ignored for `none`). */
	owner?: unknown;
	/** Days until the code stops working; 0 means never. */
	expiresInDays: unknown;
	/** How many times the code can be redeemed; 0 means without limit. */
	maxUses: unknown;
	/** A code the participant chose; empty means a generated one. */
	vanityCode?: unknown;
	/** The issuing time, for the expiry. */
	now: number;
}

/** The owner's participant id; an owner named by email or external ID who is not enrolled yet is enrolled. */
async function ownerId(
	ledger: LedgerStore,
	programId: string,
	ownerBy: string,
	value: unknown,
): Promise<Id | undefined> {
	if (ownerBy === 'none') return undefined;
	if (value === undefined || value === null || value === '') {
		throw new EngineError(
			'required',
			'The owner field is empty; every item needs the owner it names in Owner Field',
			{ field: 'ownerField' },
		);
	}
	if (ownerBy === 'id') {
		if (typeof value !== 'number' && typeof value !== 'string') {
			throw new EngineError(
				'invalid_type',
				'The owner field must hold a participant ID (a number)',
				{ field: 'ownerField' },
			);
		}
		return value;
	}
	if (typeof value !== 'string') {
		throw new EngineError(
			'invalid_type',
			`The owner field must hold text (an ${ownerBy === 'email' ? 'email address' : 'external ID'}), got ${typeof value}`,
			{ field: 'ownerField' },
		);
	}
	const { participant } = await ledger.enrolParticipant(
		ownerBy === 'email' ? { programId, email: value } : { programId, externalId: value },
	);
	return participant.id;
}

/** Issues the code (see above): the owner first (enrolled if need be), then its limits, then the vanity code if one was asked for. */
export async function issueReferralCode(
	ledger: LedgerStore,
	input: IssueReferralCodeInput,
): Promise<IssueCodeResult> {
	const { programId, generator, expiresInDays: days, maxUses } = input;
	const owner = await ownerId(
		ledger,
		programId,
		input.ownerBy,
		input.ownerBy === 'none' ? undefined : input.owner,
	);
	if (typeof days !== 'number' || days < 0)
		throw new EngineError('invalid_value', 'Expires After (Days) must be 0 (never) or more', {
			field: 'expiresInDays',
		});
	if (typeof maxUses !== 'number' || maxUses < 0 || !Number.isInteger(maxUses)) {
		throw new EngineError('invalid_value', 'Max Uses must be a whole number, 0 for no limit', {
			field: 'maxUses',
		});
	}
	const requested = input.vanityCode;
	let vanity: string | undefined;
	if (requested !== undefined && requested !== null && requested !== '') {
		const check = checkVanityCode(generator.format, requested);
		if (!check.valid || !check.canonical) {
			throw new EngineError(
				'invalid_vanity_code',
				`The requested code "${String(requested)}" cannot be used: ${check.reasons.join('; ')}`,
				{ field: 'vanityField' },
			);
		}
		vanity = check.canonical;
	}
	return await ledger.issueCode({
		programId,
		ownerId: owner,
		...(vanity ? { code: vanity } : { generate: () => generator.next() }),
		expiresAt: days > 0 ? input.now + days * DAY_MS : undefined,
		maxUses: maxUses > 0 ? maxUses : undefined,
	});
}
