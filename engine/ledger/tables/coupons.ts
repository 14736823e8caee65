/* Coupon pools: codes loaded in bulk (idempotent per pool and code), claimed one at a time under the pool's lock. */
import type { LedgerCore } from '../core';
import { BULK_CHUNK, inputObject, keyOf, pickerPage, programIdOf } from '../inputs';
import { digest } from '../once';
import { n, s, toCoupon } from '../rows';
import type { Tx } from '../sql';
import type {
	ClaimCouponInput,
	ClaimCouponResult,
	CouponCounts,
	CouponPoolSummary,
	LedgerStore,
	LoadCouponsInput,
	LoadCouponsResult,
} from '../store';
import * as v from '../validate';
import { fail, LIMITS } from '../validate';

type Methods = 'loadCoupons' | 'claimCoupon' | 'countCoupons' | 'listCouponPools';

export class CouponsTable implements Pick<LedgerStore, Methods> {
	constructor(private readonly core: LedgerCore) {}

	private async countPool(tx: Tx, programId: string, pool: string): Promise<CouponCounts> {
		const rows = await tx.all(
			`SELECT status, COUNT(*) AS n FROM coupons WHERE program_id = $1 AND pool = $2 GROUP BY status`,
			[programId, pool],
		);
		const counts: CouponCounts = { available: 0, claimed: 0 };
		for (const r of rows) counts[s(r.status) as keyof CouponCounts] = n(r.n);
		return counts;
	}

	async loadCoupons(input: LoadCouponsInput): Promise<LoadCouponsResult> {
		return this.core.mutation<
			{ added: number; duplicates: number; available?: number },
			LoadCouponsResult
		>('loadCoupons', input, (programId) => {
			const pool = v.text(input.pool, 'pool', 128);
			if (
				!Array.isArray(input.codes) ||
				input.codes.length === 0 ||
				input.codes.length > LIMITS.batch
			)
				fail('invalid_type', 'codes', `codes must be a list of 1 to ${LIMITS.batch} coupon codes`);
			const codes = input.codes.map((c, i) => v.text(c, `codes[${i}]`, LIMITS.id));
			const events = v.events(input.events);
			// Idempotent by (program, pool, code): loading the same file twice adds nothing. The same
			// load again (same pool, same codes) is a replay: it answers from the first load's receipt.
			return {
				derive: () => digest({ pool, codes }),
				request: { pool, codes },
				run: async (w) => {
					let added = 0;
					for (let i = 0; i < codes.length; i += BULK_CHUNK) {
						const chunk = codes.slice(i, i + BULK_CHUNK);
						const values = chunk.map((_, j) => `($1, $2, $${j + 4}, 'available', $3)`);
						const rows = await w.tx.all(
							`INSERT INTO coupons (program_id, pool, code, status, created_at) VALUES ${values.join(', ')} ON CONFLICT DO NOTHING RETURNING id`,
							[programId, pool, w.now, ...chunk],
						);
						added += rows.length;
					}
					const { available } = await this.countPool(w.tx, programId, pool);
					w.emitAll(programId, events);
					return {
						receipt: { added, duplicates: codes.length - added, available },
						result: { added, duplicates: codes.length - added, available, replayed: false },
					};
				},
				// Receipts written by earlier versions kept no count: those replays read the pool's count now.
				replay: async (r, w) => ({
					added: r.added,
					duplicates: r.duplicates,
					available: r.available ?? (await this.countPool(w.tx, programId, pool)).available,
					replayed: true,
				}),
			};
		});
	}

	async claimCoupon(input: ClaimCouponInput): Promise<ClaimCouponResult> {
		return this.core.mutation<{ couponId: number }, ClaimCouponResult>(
			'claimCoupon',
			input,
			(programId) => {
				const pool = v.text(input.pool, 'pool', 128);
				const participantId = v.optRowId(input.participantId, 'participantId');
				const rewardId = v.optRowId(input.rewardId, 'rewardId');
				const threshold = v.optInt(input.lowStockThreshold, 'lowStockThreshold', 1);
				const events = v.events(input.events);
				const key = keyOf(input);
				if (key === undefined && rewardId === undefined && participantId === undefined) {
					fail(
						'required',
						'rewardId',
						'give rewardId, participantId or an idempotencyKey, so that a repeated claim does not take a second coupon',
					);
				}
				return {
					key,
					request: { pool, participantId, rewardId },
					derive: () =>
						rewardId !== undefined ? `reward:${rewardId}` : `participant:${participantId}:${pool}`,
					run: async (w) => {
						if (participantId !== undefined)
							await this.core.requireParticipant(w.tx, programId, participantId, 'participantId');
						if (rewardId !== undefined)
							await this.core.requireReward(w.tx, programId, rewardId, 'rewardId');
						// One claimer per pool at a time: two claims never take the same coupon, and the count we see is exact.
						await this.core.driver.lock(w.tx, `coupon-pool:${programId}:${pool}`);
						const row = await w.tx.get(
							`UPDATE coupons SET status = 'claimed', claimed_by = $3, reward_id = $4, claimed_at = $5
						WHERE id = (SELECT id FROM coupons WHERE program_id = $1 AND pool = $2 AND status = 'available' ORDER BY id LIMIT 1) AND status = 'available'
						RETURNING *`,
							[programId, pool, participantId ?? null, rewardId ?? null, w.now],
						);
						const { available } = await this.countPool(w.tx, programId, pool);
						// An empty pool is not remembered: a retry after a refill should get a coupon.
						if (!row)
							return { receipt: null, result: { coupon: null, available, replayed: false } };
						if (threshold !== undefined && available < threshold && available + 1 >= threshold) {
							w.emit(programId, 'coupon.pool_low', { pool, available, threshold });
						}
						w.emitAll(programId, events, participantId ?? null);
						return {
							receipt: { couponId: n(row.id) },
							result: { coupon: toCoupon(row), available, replayed: false },
						};
					},
					replay: async (r, w) => ({
						coupon: toCoupon(await this.core.loadRow(w.tx, 'coupons', r.couponId)),
						available: (await this.countPool(w.tx, programId, pool)).available,
						replayed: true,
					}),
				};
			},
		);
	}

	async countCoupons(query: { programId: string; pool: string }): Promise<CouponCounts> {
		inputObject(query, 'countCoupons');
		const programId = programIdOf(query);
		const pool = v.text(query.pool, 'pool', 128);
		return this.core.read((tx) => this.countPool(tx, programId, pool));
	}

	async listCouponPools(query: {
		programId: string;
		search?: string;
		limit?: number;
	}): Promise<CouponPoolSummary[]> {
		inputObject(query, 'listCouponPools');
		const programId = programIdOf(query);
		const rows = await this.core.read((tx) =>
			tx.all(
				`SELECT pool, COUNT(*) AS total, SUM(CASE WHEN status = 'available' THEN 1 ELSE 0 END) AS available FROM coupons WHERE program_id = $1 GROUP BY pool ORDER BY pool`,
				[programId],
			),
		);
		return pickerPage(
			rows.map((row) => ({
				pool: s(row.pool),
				available: Number(row.available ?? 0),
				total: Number(row.total),
			})),
			(pool) => pool.pool,
			query,
		);
	}
}
