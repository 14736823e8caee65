/* A child process for concurrency.test.ts: `ops` mixed ledger operations whose keys deliberately
 * collide with the other workers', reporting what it saw (and any error) as one RESULT line. */
import { closeAllLedgers, openLedger, type LedgerConfig } from '../../../engine/ledger';

export interface MixedArgs {
	config: LedgerConfig;
	worker: number;
	ops: number;
	programId: string;
	/** Referrers, code owners, reward recipients. */
	participants: number[];
	referees: number[];
	/** Shared codes with a small maxUses, redeemed by everyone. */
	codes: string[];
}

export interface MixedResult {
	errors: string[];
	enrolled: Record<string, number>;
	ownerCodes: Record<string, string>;
	redeemed: Record<string, number>;
	refused: Record<string, number>;
	referrals: Record<string, number>;
	transitionsWon: number[];
	rewards: Record<string, number>;
	points: Array<{ key: string; participantId: number; entryId: number }>;
	coupons: Record<string, string | null>;
	messagesReserved: string[];
	/** Wall-clock span of the operations, to prove the workers overlapped. */
	startedAt: number;
	finishedAt: number;
}

/** Resolves when the parent writes a line to stdin: all workers start together. */
function go(): Promise<void> {
	return new Promise((resolve) => process.stdin.once('data', () => resolve()));
}

async function main(): Promise<void> {
	const args = JSON.parse(process.argv[2]) as MixedArgs;
	const { programId, participants: P, referees: R, codes, worker } = args;
	const ledger = await openLedger(args.config);
	const out: MixedResult = {
		errors: [],
		enrolled: {},
		ownerCodes: {},
		redeemed: {},
		refused: {},
		referrals: {},
		transitionsWon: [],
		rewards: {},
		points: [],
		coupons: {},
		messagesReserved: [],
		startedAt: 0,
		finishedAt: 0,
	};
	process.stdout.write('READY\n');
	await go();
	out.startedAt = Date.now();
	// Two letters from eight: 64 codes in all, so issuing collides often and must retry.
	const smallSpace = () =>
		'Q' + 'ABCDEFGH'[Math.floor(Math.random() * 8)] + 'ABCDEFGH'[Math.floor(Math.random() * 8)];
	for (let j = 0; j < args.ops; j++) {
		// Every worker runs the same keys in the same order, so each key is raced by all of them.
		const op = j % 8;
		const m = j >> 3;
		try {
			if (op === 0) {
				const email = `shared${m % 60}@example.com`;
				out.enrolled[email] = (await ledger.enrolParticipant({ programId, email })).participant.id;
			} else if (op === 1) {
				const ownerId = P[m % P.length];
				out.ownerCodes[ownerId] = (
					await ledger.issueCode({ programId, ownerId, generate: smallSpace })
				).code.code;
			} else if (op === 2) {
				const code = codes[m % codes.length];
				const result = await ledger.redeemCode({ programId, code, reference: `w${worker}-${j}` });
				const bucket = result.redeemed ? out.redeemed : out.refused;
				bucket[code] = (bucket[code] ?? 0) + 1;
			} else if (op === 3) {
				const k = m % R.length;
				const { referral } = await ledger.recordReferral({
					programId,
					referrerId: P[k % P.length],
					refereeId: R[k],
				});
				out.referrals[R[k]] = referral.id;
				const moved = await ledger.transitionReferral({
					programId,
					referralId: referral.id,
					from: 'pending',
					to: 'approved',
				});
				if (moved.transitioned) out.transitionsWon.push(referral.id);
			} else if (op === 4) {
				const rule = `r${m % 30}`;
				const recipientId = P[(m % 30) % P.length];
				const { reward } = await ledger.awardReward({
					programId,
					recipientId,
					side: 'referrer',
					rule,
					kind: 'points',
					amount: 10,
					points: { delta: 10 },
				});
				out.rewards[`${recipientId}:${rule}`] = reward.id;
			} else if (op === 5) {
				// Half the keys are this worker's own, half are shared by every worker.
				const key = m % 2 ? `w${worker}-${j}` : `shared-${m % 25}`;
				const participantId = m % 2 ? P[m % P.length] : P[(m % 25) % P.length];
				const { entry } = await ledger.appendPoints({
					programId,
					participantId,
					delta: 1,
					idempotencyKey: key,
				});
				out.points.push({ key, participantId, entryId: entry.id });
			} else if (op === 6) {
				const key = `claim-${m % 50}`;
				const { coupon } = await ledger.claimCoupon({
					programId,
					pool: 'POOL',
					participantId: P[(m % 50) % P.length],
					idempotencyKey: key,
				});
				out.coupons[key] = coupon?.code ?? null;
			} else {
				const key = `msg-${m % 40}`;
				const { reserved } = await ledger.reserveMessage({
					idempotencyKey: key,
					channel: 'email',
					recipient: `m${m % 40}@example.com`,
					programId,
				});
				if (reserved) {
					out.messagesReserved.push(key);
					await ledger.completeMessage({
						idempotencyKey: key,
						status: 'sent',
						providerId: `w${worker}`,
					});
				}
			}
		} catch (error) {
			out.errors.push(`op ${op} #${j}: ${(error as Error).message}`);
		}
	}
	out.finishedAt = Date.now();
	process.stdin.destroy();
	await closeAllLedgers();
	process.stdout.write('RESULT ' + JSON.stringify(out) + '\n');
}

main().catch((error) => {
	process.stdout.write(
		'RESULT ' + JSON.stringify({ errors: [`worker crashed: ${(error as Error).stack}`] }) + '\n',
	);
	process.exit(1);
});
