/* A child process for crash.test.ts, killed with SIGKILL while it writes.
 * - mode `batch`: one issueCodes transaction; with `hangAt`, the generator says MID and then hangs
 *   inside the open transaction, so the kill lands mid-transaction by construction.
 * - mode `items`: a batch of referral items (enrol, record, reward both sides with points), each
 *   item several transactions; the parent kills at a random moment. */
import { writeSync } from 'node:fs';
import { closeAllLedgers, openLedger, type LedgerConfig } from '../../../engine/ledger';

export interface CrashArgs {
	config: LedgerConfig;
	programId: string;
	mode: 'batch' | 'items';
	count: number;
	hangAt?: number;
	referrers?: number[];
}

async function main(): Promise<void> {
	const args = JSON.parse(process.argv[2]) as CrashArgs;
	const { programId } = args;
	const ledger = await openLedger(args.config);
	if (args.mode === 'batch') {
		let calls = 0;
		const generate = () => {
			calls++;
			if (calls === args.hangAt) {
				writeSync(1, 'MID\n');
				for (;;) {
					// Hang inside the transaction until SIGKILL.
				}
			}
			return `K${calls.toString(36).toUpperCase().padStart(6, '0')}`;
		};
		const result = await ledger.issueCodes(args.count, {
			programId,
			generate,
			idempotencyKey: 'crash-batch',
		});
		writeSync(
			1,
			`RESULT ${JSON.stringify({ codes: result.codes.length, replayed: result.replayed })}\n`,
		);
	} else {
		const referrers = args.referrers!;
		for (let i = 0; i < args.count; i++) {
			const referee = (
				await ledger.enrolParticipant({ programId, externalId: `crash-referee-${i}` })
			).participant;
			const { referral } = await ledger.recordReferral({
				programId,
				referrerId: referrers[i % referrers.length],
				refereeId: referee.id,
				source: 'crash-test',
			});
			await ledger.awardReward({
				programId,
				recipientId: referral.referrerId,
				referralId: referral.id,
				side: 'referrer',
				rule: 'signup',
				kind: 'points',
				amount: 10,
				points: { delta: 10 },
			});
			await ledger.awardReward({
				programId,
				recipientId: referee.id,
				referralId: referral.id,
				side: 'referee',
				rule: 'welcome',
				kind: 'points',
				amount: 5,
				points: { delta: 5 },
			});
			writeSync(1, `DONE ${i}\n`);
		}
		writeSync(1, `RESULT ${JSON.stringify({ items: args.count })}\n`);
	}
	await closeAllLedgers();
}

main().catch((error) => {
	writeSync(1, `RESULT ${JSON.stringify({ error: (error as Error).stack })}\n`);
	process.exit(1);
});
