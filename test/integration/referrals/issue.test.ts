/* The Referral Code node's Issue rule, in the engine (issueReferralCode): the owner is enrolled
 * first, limits and vanity codes are checked, and a replay answers with the same code. On SQLite. */
import { describe, expect, it } from 'vitest';
import { CodeGenerator } from '../../../engine/codes';
import { issueReferralCode } from '../../../engine/referrals';
import { ledgerBackends } from '../../support/databases';

const [[, open]] = ledgerBackends('issue_code_test');
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 0, 1);

describe('issueReferralCode', () => {
	it('enrols an owner named by email, issues one code per owner with its limits, and replays it', async () => {
		const ledger = await open();
		await ledger.ensureProgram({ id: 'p' });
		const generator = new CodeGenerator();
		const input = {
			programId: 'p',
			generator,
			ownerBy: 'email',
			owner: 'ana@example.com',
			expiresInDays: 30,
			maxUses: 5,
			now: NOW,
		};
		const first = await issueReferralCode(ledger, input);
		const participant = await ledger.getParticipant({ programId: 'p', email: 'ana@example.com' });
		expect(first).toMatchObject({
			replayed: false,
			code: { ownerId: participant!.id, expiresAt: NOW + 30 * DAY, maxUses: 5 },
		});
		expect(await issueReferralCode(ledger, input)).toMatchObject({
			replayed: true,
			code: { code: first.code.code },
		});
	});

	it('issues a campaign code with no owner and no limits, and a checked vanity code', async () => {
		const ledger = await open();
		await ledger.ensureProgram({ id: 'p' });
		const generator = new CodeGenerator();
		const campaign = await issueReferralCode(ledger, {
			programId: 'p',
			generator,
			ownerBy: 'none',
			expiresInDays: 0,
			maxUses: 0,
			now: NOW,
		});
		expect(campaign.code).toMatchObject({ ownerId: null, expiresAt: null, maxUses: null });
		const vanity = await issueReferralCode(ledger, {
			programId: 'p',
			generator,
			ownerBy: 'externalId',
			owner: 'c-1',
			expiresInDays: 0,
			maxUses: 0,
			vanityCode: 'anna2627',
			now: NOW,
		});
		expect(vanity.code.code).toBe('ANNA2627');
	});

	it('names the parameter at fault', async () => {
		const ledger = await open();
		await ledger.ensureProgram({ id: 'p' });
		const generator = new CodeGenerator();
		const base = {
			programId: 'p',
			generator,
			ownerBy: 'email',
			owner: 'bo@example.com',
			expiresInDays: 0,
			maxUses: 0,
			now: NOW,
		};
		await expect(issueReferralCode(ledger, { ...base, owner: '' })).rejects.toMatchObject({
			code: 'required',
			field: 'ownerField',
		});
		await expect(
			issueReferralCode(ledger, { ...base, ownerBy: 'id', owner: {} }),
		).rejects.toMatchObject({ code: 'invalid_type', field: 'ownerField' });
		await expect(issueReferralCode(ledger, { ...base, expiresInDays: -1 })).rejects.toMatchObject({
			code: 'invalid_value',
			field: 'expiresInDays',
		});
		await expect(issueReferralCode(ledger, { ...base, maxUses: 1.5 })).rejects.toMatchObject({
			code: 'invalid_value',
			field: 'maxUses',
		});
		await expect(issueReferralCode(ledger, { ...base, vanityCode: 'no' })).rejects.toMatchObject({
			code: 'invalid_vanity_code',
			field: 'vanityField',
		});
	});
});
