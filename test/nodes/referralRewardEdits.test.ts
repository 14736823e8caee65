/* Referral Reward › Evaluate and Award after the marketer edits the form (#13.3), in real n8n
 * executions (harness) on SQLite and PostgreSQL: adding an unnamed rule above another pays the new
 * rule once and never pays the old one again. */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { IDataObject } from 'n8n-workflow';
import { closeAllLedgers, openLedger } from '../../engine/ledger';
import { ledgerConfigFromCredential } from '../../nodes/shared/ledger';
import { runWorkflow, singleNodeWorkflow } from '../harness';
import { pgTestUrl, withPgSchema } from './ledgerBackends';

afterAll(async () => {
	await closeAllLedgers();
});

type Credential = Record<string, unknown>;
type Json = IDataObject;

function backends(): Array<
	[string, () => Promise<{ credential: Credential; cleanup: () => Promise<void> }>]
> {
	return [
		[
			'SQLite',
			async () => ({
				credential: {
					backend: 'sqlite',
					path: path.join(mkdtempSync(path.join(os.tmpdir(), 'rm-edits-')), 'ledger.sqlite'),
				},
				cleanup: async () => {},
			}),
		],
		['PostgreSQL', async () => withPgSchema()],
	];
}

const points = (value: number, extra: Json = {}) => ({
	side: 'referrer',
	on: 'referral_qualified',
	kind: 'points',
	points: value,
	id: '',
	...extra,
});

for (const [name, open] of backends()) {
	describe.skipIf(name === 'PostgreSQL' && !pgTestUrl())(
		`Referral Reward program edits on ${name}`,
		() => {
			const evaluate = async (credential: Credential, rewards: Json[], referralId: number) =>
				(
					await runWorkflow(
						singleNodeWorkflow(
							{
								type: 'referralReward',
								parameters: {
									program: 'default',
									operation: 'evaluate',
									referralBy: 'id',
									referralField: 'referralId',
									outputMode: 'perReferral',
									perReferral: { rewards },
									programOptions: { currency: 'EUR' },
								},
								credentials: { referralLedgerApi: { id: '1', name: 'Ledger' } },
							} as never,
							[{ referralId }],
						),
						{ credentials: { referralLedgerApi: credential as never } },
					)
				).json('Node')[0];

			it('an unnamed 5-point rule added above the 100-point rule: the referrer ends at 105 and the 5 points are written', async () => {
				const { credential, cleanup } = await open();
				try {
					const ledger = await openLedger(ledgerConfigFromCredential(credential as never));
					await ledger.ensureProgram({ id: 'default' });
					const ann = (
						await ledger.enrolParticipant({ programId: 'default', email: 'ann@example.com' })
					).participant.id;
					const friend = (
						await ledger.enrolParticipant({ programId: 'default', email: 'friend@example.com' })
					).participant.id;
					const { referral } = await ledger.recordReferral({
						programId: 'default',
						referrerId: ann,
						refereeId: friend,
						status: 'pending',
					});
					await ledger.qualifyReferral({
						programId: 'default',
						referralId: referral.id,
						orderId: 'order-1',
						amount: 80,
						currency: 'EUR',
						fromStatuses: ['pending'],
					});

					const first = await evaluate(credential, [points(100)], referral.id);
					expect((first.rewards as Json[]).map((r) => [r.points, r.rule, r.replayed])).toEqual([
						[100, 'referrer-points', false],
					]);

					const edited = await evaluate(credential, [points(5), points(100)], referral.id);
					expect(await ledger.pointsBalance({ programId: 'default', participantId: ann })).toBe(
						105,
					);
					expect((edited.rewards as Json[]).map((r) => [r.points, r.replayed])).toEqual([
						[5, false],
						[100, true],
					]);
					// A notice goes out for the new reward only.
					expect((edited.notices as Json[]).map((n) => n.lines)).toEqual([['5 points']]);
					const stored = await ledger.listRewards({
						programId: 'default',
						referralId: referral.id,
					});
					expect(stored.map((r) => r.amount)).toEqual([100, 5]);

					// Renaming and reordering afterwards changes nothing.
					await evaluate(
						credential,
						[points(100, { id: 'thank-you' }), points(5, { id: 'small-bonus' })],
						referral.id,
					);
					expect(await ledger.pointsBalance({ programId: 'default', participantId: ann })).toBe(
						105,
					);
				} finally {
					await cleanup();
				}
			});
		},
	);
}
