/* Issue #14: Shopify's refunds/create sends each refund's own amount, while Reverse (Refund) read
 * `refundedAmount` as the total refunded so far: two partial refunds of 30 on an order of 100 counted
 * as 30, not 60. With refundedAmountIs 'this_refund' the ledger sums the order's distinct refund ids
 * in the refund's transaction; a replayed refund id adds nothing. On SQLite and PostgreSQL. */
import { describe, expect, it } from 'vitest';
import { saveReferralProgram } from '../../../engine/referrals';
import { ReferralService } from '../../../engine/refunds';
import { IN_CI, ledgerBackends, pgAvailability } from '../../support/databases';

const { available } = pgAvailability();
const backends = ledgerBackends('refund_parts_test');

for (const [name, open] of backends) {
	describe.skipIf(name === 'PostgreSQL' && !available && !IN_CI)(
		`refunds summed per refund id on ${name}`,
		() => {
			async function world(orders: string[]) {
				const ledger = await open();
				await saveReferralProgram(ledger, { programId: 'p', refundPolicy: 'full_refund_only' });
				const svc = await ReferralService.open(ledger, 'p');
				const ana = await svc.enrol({ email: 'ana@example.com' });
				const ids: Record<string, number> = {};
				for (const [i, orderId] of orders.entries()) {
					await svc.enrol({ email: `f${i}@example.org`, referralCode: ana.participant.code! });
					const q = await svc.qualify({
						email: `f${i}@example.org`,
						orderId,
						amount: 100,
						currency: 'EUR',
					});
					ids[orderId] = q.referral!.id;
				}
				const refunded = async (orderId: string) => {
					const r = (await ledger.getReferral({ programId: 'p', id: ids[orderId] }))!;
					return {
						status: r.status,
						total:
							(r.metadata.refund as { refundedAmount?: number } | undefined)?.refundedAmount ?? 0,
					};
				};
				return { svc, refunded };
			}

			it('two partial refunds with different ids sum; the same id replayed (or resent with another amount) adds nothing; the sum reaching the order reverses; Total So Far unchanged', async () => {
				const { svc, refunded } = await world(['A-1']);
				const part = (refundId: string, refundedAmount: number) =>
					svc.reverse({
						orderId: 'A-1',
						refundedAmount,
						refundedAmountIs: 'this_refund',
						refundId,
					});
				const first = await part('re_1', 30);
				expect(first).toMatchObject({
					outcome: 'unchanged',
					changed: true,
					referral: { status: 'qualified' },
					replayed: false,
				});
				expect(await refunded('A-1')).toEqual({ status: 'qualified', total: 30 });
				expect(await part('re_2', 30)).toMatchObject({
					outcome: 'unchanged',
					changed: true,
					replayed: false,
				});
				expect(await refunded('A-1')).toEqual({ status: 'qualified', total: 60 });
				// The same delivery again: the stored answer, nothing added.
				const { replayed: _r, ...firstAnswer } = first;
				expect(await part('re_1', 30)).toEqual({ ...firstAnswer, replayed: true });
				// The same refund id with another amount (an edited resend) is not counted twice.
				expect(await part('re_1', 35)).toMatchObject({
					outcome: 'unchanged',
					changed: false,
					replayed: false,
				});
				expect(await refunded('A-1')).toEqual({ status: 'qualified', total: 60 });
				// 60 + 40 = the whole order: under Only a Full Refund Reverses the referral is reversed now.
				expect(await part('re_3', 40)).toMatchObject({
					outcome: 'reversed',
					referral: { status: 'reversed' },
				});
				expect((await refunded('A-1')).status).toBe('reversed');
				// More than the order, counted: the error names the field, the refund and the sum.
				const { svc: svc2 } = await world(['B-1']);
				await svc2.reverse({
					orderId: 'B-1',
					refundedAmount: 70,
					refundedAmountIs: 'this_refund',
					refundId: 'x1',
				});
				await expect(
					svc2.reverse({
						orderId: 'B-1',
						refundedAmount: 40,
						refundedAmountIs: 'this_refund',
						refundId: 'x2',
					}),
				).rejects.toMatchObject({
					field: 'refundedAmount',
					message: expect.stringContaining("refund x2 (40) brings the order's refunds to 110"),
				});
				await expect(
					svc2.reverse({ orderId: 'B-1', refundedAmount: 5, refundedAmountIs: 'this_refund' }),
				).rejects.toMatchObject({ field: 'refundId' });
				// Total So Far (the default) is unchanged: the amount is the total, a repeat is the same total.
				const { svc: svc3, refunded: refunded3 } = await world(['D-1']);
				expect(await svc3.reverse({ orderId: 'D-1', refundedAmount: 30 })).toMatchObject({
					outcome: 'unchanged',
					changed: true,
				});
				expect(await svc3.reverse({ orderId: 'D-1', refundedAmount: 30 })).toMatchObject({
					replayed: true,
				});
				expect(await refunded3('D-1')).toEqual({ status: 'qualified', total: 30 });
				await svc3.reverse({ orderId: 'D-1', refundedAmount: 60 });
				expect(await refunded3('D-1')).toEqual({ status: 'qualified', total: 60 });
			});

			it('refunds of different ids racing each other are all counted (the sum is compare-and-set in the refund transaction)', async () => {
				const { svc, refunded } = await world(['C-1']);
				const results = await Promise.all(
					[10, 15, 20, 5].map((amount, i) =>
						svc.reverse({
							orderId: 'C-1',
							refundedAmount: amount,
							refundedAmountIs: 'this_refund',
							refundId: `r${i}`,
						}),
					),
				);
				expect(results.every((r) => r.changed)).toBe(true);
				expect(await refunded('C-1')).toEqual({ status: 'qualified', total: 50 });
			});
		},
	);
}
