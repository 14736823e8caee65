/* Referral › Ledger › Prune Old Records in real n8n executions (harness) on SQLite and PostgreSQL
 * (issue #18, retention): messages sent 100 days ago, their events and kept answers are forgotten
 * with Keep For 90 days; yesterday's stay and a retried send of them still answers "sent"; a
 * reservation without an outcome stays whatever its age; a retention under 7 days is refused with
 * the parameter named, and with Continue On Fail comes out as the item's error. */
import { afterAll, describe, expect, it } from 'vitest';
import { closeAllLedgers } from '../../engine/ledger';
import { openPostgresLedger } from '../../engine/ledger/postgres';
import { openSqliteLedger } from '../../engine/ledger/sqlite';
import { ledgerConfigFromCredential } from '../../nodes/shared/ledger';
import { runWorkflow, singleNodeWorkflow } from '../harness';
import { ledgerNodeBackends, pgTestUrl, runLedgerNode } from './ledgerBackends';

const DAY = 86_400_000;

afterAll(async () => {
	await closeAllLedgers();
});

for (const [name, open] of ledgerNodeBackends('retention')) {
	describe.skipIf(name === 'PostgreSQL' && !pgTestUrl())(`Prune Old Records on ${name}`, () => {
		it('forgets final messages, events and answers older than Keep For; keeps the rest and the money', async () => {
			const world = await open();
			try {
				const config = ledgerConfigFromCredential(world.credential);
				// A second handle on the same ledger with its clock set back: records written "100 days ago".
				let clock = Date.now() - 100 * DAY;
				const past =
					config.backend === 'sqlite'
						? await openSqliteLedger(config, { now: () => clock })
						: await openPostgresLedger(config, { now: () => clock });
				try {
					await past.ensureProgram({ id: 'shop' });
					const send = async (key: string, status?: 'sent' | 'failed') => {
						await past.reserveMessage({
							idempotencyKey: key,
							channel: 'email',
							recipient: `${key}@example.com`,
						});
						if (status) await past.completeMessage({ idempotencyKey: key, status });
					};
					await send('old-sent', 'sent');
					await send('old-failed', 'failed');
					await send('old-reserved');
					await past.keepAnswer({
						programId: 'shop',
						operation: 'signUp',
						key: 'old',
						answer: { a: 1 },
					});
					await past.appendEvent({ programId: 'shop', type: 'old.event', payload: {} });
					const enrolled = await past.enrolParticipant({
						programId: 'shop',
						email: 'ann@example.com',
					});
					clock = Date.now() - DAY;
					await send('recent-sent', 'sent');
					await past.keepAnswer({
						programId: 'shop',
						operation: 'signUp',
						key: 'recent',
						answer: { a: 2 },
					});

					const result = await runWorkflow(
						singleNodeWorkflow(
							{
								type: 'referral',
								parameters: { resource: 'ledger', operation: 'prune', retentionDays: 90 },
								credentials: { referralLedgerApi: { id: '1', name: 'Ledger' } },
							},
							[{}, {}],
						),
						{ credentials: { referralLedgerApi: world.credential as never } },
					);
					const out = result.items('Node');
					expect(out).toHaveLength(1);
					const json = out[0].json as Record<string, any>;
					// Messages: the old sent and failed ones. Keys: the kept answer and the enrolment's key
					// (a repeated enrolment still finds Ann by her email, the natural key).
					expect(json).toMatchObject({
						retentionDays: 90,
						pruned: { messages: 2, idempotencyKeys: 2 },
					});
					expect(json.pruned.events).toBeGreaterThanOrEqual(1);
					expect(Date.now() - Date.parse(json.prunedBefore)).toBeGreaterThanOrEqual(90 * DAY);
					expect(out[0].pairedItem).toEqual([{ item: 0 }, { item: 1 }]);

					expect(
						await past.reserveMessage({
							idempotencyKey: 'recent-sent',
							channel: 'email',
							recipient: 'recent-sent@example.com',
						}),
					).toMatchObject({ reserved: false, message: { status: 'sent' } });
					expect(
						await past.reserveMessage({
							idempotencyKey: 'old-reserved',
							channel: 'email',
							recipient: 'old-reserved@example.com',
						}),
					).toMatchObject({ reserved: false, message: { status: 'reserved' } });
					expect(
						await past.keptAnswer({ programId: 'shop', operation: 'signUp', key: 'recent' }),
					).toEqual({ a: 2 });
					expect(
						await past.keptAnswer({ programId: 'shop', operation: 'signUp', key: 'old' }),
					).toBeNull();
					// The participant (and every other money record) is never pruned.
					expect(
						(await past.getParticipant({ programId: 'shop', id: enrolled.participant.id }))?.email,
					).toBe('ann@example.com');
				} finally {
					await past.close();
				}
			} finally {
				await world.cleanup();
			}
		});

		it('refuses Keep For under 7 days, naming the parameter', async () => {
			const world = await open();
			try {
				const [out] = await runLedgerNode(
					world.credential,
					'referral',
					{ resource: 'ledger', operation: 'prune', retentionDays: 1 },
					[{}],
				);
				expect(out.error.message).toMatch(/Keep For \(Days\) is 1: .*at least 7/);
			} finally {
				await world.cleanup();
			}
		});
	});
}
