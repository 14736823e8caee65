/* Issue #13 defect 2, the replay matrix: for every operation that writes (sign-up, conversion,
 * refund, approve, reject, flag, award, redeem, coupon load) and every referral status (pending,
 * flagged, rejected, qualified, reversed), the same request sent again answers what the first one
 * answered: the same status (error or success) and the same body, rewards and notices included,
 * whether the replay comes after the first answer or 20 copies race (n8n re-running an execution
 * after a crash while the first still runs). Through the nodes in real n8n executions (harness) on
 * SQLite and PostgreSQL. The `replayed` flags are the only difference allowed: they say it is a
 * replay. Before the fix 24 of the 80 cells of the eight issue operations failed on each backend. */
import { afterAll, describe, expect, it } from 'vitest';
import type { IDataObject } from 'n8n-workflow';
import { closeAllLedgers } from '../../engine/ledger';
import { runWorkflow, singleNodeWorkflow } from '../harness';
import { POINTS_AND_CASH_BACK_FORM as FORM, ledgerNodeBackends, pgTestUrl } from './ledgerBackends';

afterAll(async () => {
	await closeAllLedgers();
});

type Credential = Record<string, unknown>;
type Json = Record<string, any>;

const STATUSES = ['pending', 'flagged', 'rejected', 'qualified', 'reversed'] as const;
const OPERATIONS = [
	'signUp',
	'conversion',
	'refund',
	'approve',
	'reject',
	'award',
	'redeem',
	'couponLoad',
	'flag',
] as const;
type Status = (typeof STATUSES)[number];
type Operation = (typeof OPERATIONS)[number];
const MODES = ['sequential', 'concurrent'] as const;
type Mode = (typeof MODES)[number];

/** A request: which node, its parameters, its items. Two requests with the same `id` are the same request. */
interface Request {
	id: string;
	type: string;
	parameters: IDataObject;
	items: Json[];
}

/** What a replay may differ in: the flags saying it is one. */
function withoutReplayFlags(value: unknown): unknown {
	if (Array.isArray(value)) return value.map(withoutReplayFlags);
	if (value && typeof value === 'object') {
		return Object.fromEntries(
			Object.entries(value as Json)
				.filter(([k]) => k !== 'replayed')
				.map(([k, v]) => [k, withoutReplayFlags(v)]),
		);
	}
	return value;
}

const backends = ledgerNodeBackends('replay');

for (const [name, open] of backends) {
	describe.skipIf(name === 'PostgreSQL' && !pgTestUrl())(
		`replays answer like the first request, through the nodes on ${name}`,
		() => {
			let world: { credential: Credential; cleanup: () => Promise<void> } | undefined;
			const credentialOf = async () => {
				if (!world) {
					world = await open();
					await send({
						id: 'program',
						type: 'referral',
						parameters: { resource: 'program', operation: 'save' },
						items: [{}],
					});
				}
				return world.credential;
			};
			afterAll(async () => {
				await world?.cleanup();
			});

			async function send(request: Request): Promise<Json[]> {
				const credential = world!.credential;
				const run = await runWorkflow(
					singleNodeWorkflow(
						{
							type: request.type,
							parameters: { program: 'shop', ...request.parameters },
							continueOnFail: true,
							credentials: { referralLedgerApi: { id: '1', name: 'Ledger' } },
						} as never,
						request.items,
					),
					{ credentials: { referralLedgerApi: credential as never } },
				);
				const error = run.error('Node');
				// A node that stops (no continue-on-fail item) answers with its error.
				if (error)
					return [{ stopped: { message: error.message, description: error.description ?? null } }];
				return run.json('Node') as Json[];
			}

			/** The requests of one cell; `tag` keeps every cell's people, orders and pools apart. */
			function requests(tag: string) {
				const referrer = `ref-${tag}@example.com`;
				const referee = `friend-${tag}@example.org`;
				const orderId = `O-${tag}`;
				return {
					enrolReferrer: {
						id: 'enrolReferrer',
						type: 'referral',
						parameters: { resource: 'participant', operation: 'enrol' },
						items: [{ email: referrer }],
					},
					signUp: (code: string): Request => ({
						id: 'signUp',
						type: 'referral',
						parameters: { resource: 'referral', operation: 'record' },
						items: [{ email: referee, referralCode: code }],
					}),
					conversion: {
						id: 'conversion',
						type: 'referral',
						parameters: { resource: 'referral', operation: 'qualify' },
						items: [{ email: referee, orderId, amount: 100, currency: 'EUR' }],
					},
					refund: {
						id: 'refund',
						type: 'referral',
						parameters: {
							resource: 'referral',
							operation: 'reverse',
							reverseBy: 'orderId',
							refundFields: {},
						},
						items: [{ orderId }],
					},
					approve: (referralId: number): Request => ({
						id: 'approve',
						type: 'referral',
						parameters: { resource: 'referral', operation: 'approve' },
						items: [{ referralId }],
					}),
					reject: (referralId: number): Request => ({
						id: 'reject',
						type: 'referral',
						parameters: { resource: 'referral', operation: 'reject' },
						items: [{ referralId }],
					}),
					flag: (referralId: number): Request => ({
						id: 'flag',
						type: 'referral',
						parameters: { resource: 'referral', operation: 'flag' },
						items: [{ referralId }],
					}),
					award: (referralId: number): Request => ({
						id: 'award',
						type: 'referralReward',
						parameters: {
							operation: 'evaluate',
							referralBy: 'id',
							referralField: 'referralId',
							outputMode: 'perReferral',
							...FORM,
						},
						items: [{ referralId }],
					}),
					redeem: {
						id: 'redeem',
						type: 'referralReward',
						parameters: { operation: 'redeemPoints', points: 60, referenceField: 'orderId' },
						items: [{ email: referrer, orderId: `R-${tag}` }],
					},
					couponLoad: {
						id: 'couponLoad',
						type: 'referralReward',
						parameters: { operation: 'loadCoupons', pool: `pool-${tag}` },
						items: [{ code: `A-${tag}` }, { code: `B-${tag}` }],
					},
				};
			}

			/**
			 * Brings a fresh referral to `status`, remembering each step's answer: when the cell's request
			 * is one of those steps (the sign-up that made the referral, the order that qualified it, the
			 * refund that reversed it...), the first answer is that step's.
			 */
			async function setUp(tag: string, status: Status, operation: Operation) {
				const r = requests(tag);
				const answers = new Map<string, Json[]>();
				const step = async (request: Request) => {
					const answer = await send(request);
					answers.set(request.id, answer);
					return answer;
				};
				const [ref] = await step(r.enrolReferrer);
				expect(ref.error).toBeUndefined();
				const [signedUp] = await step(r.signUp(ref.participant.code));
				expect(signedUp.referral).toMatchObject({ status: 'pending' });
				const referralId = signedUp.referral.id as number;
				if (status === 'flagged') await step(r.flag(referralId));
				if (status === 'rejected') await step(r.reject(referralId));
				if (status === 'qualified' || status === 'reversed') {
					expect((await step(r.conversion))[0]).toMatchObject({ qualified: true });
					// Redeeming needs points: the rewards are awarded first (then the award itself is a replay).
					if (operation === 'redeem' || status === 'reversed') await step(r.award(referralId));
				}
				if (status === 'reversed')
					expect((await step(r.refund))[0]).toMatchObject({ referral: { status: 'reversed' } });
				const all = {
					signUp: r.signUp(ref.participant.code),
					conversion: r.conversion,
					refund: r.refund,
					approve: r.approve(referralId),
					reject: r.reject(referralId),
					flag: r.flag(referralId),
					award: r.award(referralId),
					redeem: r.redeem,
					couponLoad: r.couponLoad,
				} satisfies Record<Operation, Request>;
				const request = all[operation];
				return { request, first: answers.get(request.id) };
			}

			const cells: Array<[Operation, Status, Mode]> = [];
			for (const operation of OPERATIONS)
				for (const status of STATUSES)
					for (const mode of MODES) cells.push([operation, status, mode]);
			let counter = 0;

			it.each(cells)(
				'%s in a %s referral, %s replays',
				async (operation, status, mode) => {
					await credentialOf();
					const tag = `${operation}-${status}-${mode}-${++counter}`.toLowerCase();
					const { request, first } = await setUp(tag, status, operation);
					let answers: Json[][];
					if (mode === 'sequential') {
						answers = [first ?? (await send(request))];
						answers.push(await send(request));
						answers.push(await send(request));
					} else {
						// 20 at once: the first request racing its replays, or 20 replays of a first that came before.
						answers = await Promise.all(Array.from({ length: 20 }, () => send(request)));
						if (first) answers.unshift(first);
					}
					const expected = withoutReplayFlags(answers[0]);
					for (const answer of answers.slice(1))
						expect(withoutReplayFlags(answer)).toEqual(expected);
				},
				120_000,
			);

			it('a redemption replayed after another spend answers the balance right after it, like the first time', async () => {
				await credentialOf();
				const tag = `redeem-later-${++counter}`;
				const { request } = await setUp(tag, 'qualified', 'redeem');
				const [first] = await send(request);
				expect(first.redemption).toMatchObject({ points: 60, balance: 40 });
				const [other] = await send({
					...request,
					parameters: { ...request.parameters, points: 30 },
					items: [{ ...request.items[0], orderId: `R2-${tag}` }],
				});
				expect(other.redemption).toMatchObject({ balance: 10 });
				expect(withoutReplayFlags(await send(request))).toEqual(withoutReplayFlags([first]));
			}, 60_000);

			it('an order held while the referral was under review answers "held" again after the review approved or rejected it', async () => {
				await credentialOf();
				for (const decision of ['approve', 'reject'] as const) {
					const tag = `held-${decision}-${++counter}`;
					const { request } = await setUp(tag, 'flagged', 'conversion');
					const [first] = await send(request);
					expect(first).toMatchObject({ outcome: 'held', qualified: false });
					const referralId = first.referral.id as number;
					const [decided] = await send(requests(tag)[decision](referralId));
					expect(decided.error).toBeUndefined();
					const again = await Promise.all(Array.from({ length: 5 }, () => send(request)));
					for (const answer of again)
						expect(withoutReplayFlags(answer)).toEqual(withoutReplayFlags([first]));
					// The held order with another amount is still a conflict naming orderId.
					const [changed] = await send({
						...request,
						items: [{ ...request.items[0], amount: 120 }],
					});
					expect(changed.error).toMatchObject({ code: 'order_conflict', field: 'orderId' });
				}
			}, 60_000);

			it('the same orderId with another amount or currency is a conflict naming orderId, not a replay; the order itself still replays', async () => {
				await credentialOf();
				const tag = `conflict-${++counter}`;
				const { request, first } = await setUp(tag, 'qualified', 'conversion');
				const item = request.items[0];
				for (const changed of [
					{ amount: 120 },
					{ currency: 'USD' },
					{ amount: 100.5, currency: 'GBP' },
				]) {
					const answers = await Promise.all(
						Array.from({ length: 5 }, () => send({ ...request, items: [{ ...item, ...changed }] })),
					);
					for (const [answer] of answers) {
						expect(answer.error).toMatchObject({
							code: 'order_conflict',
							field: 'orderId',
							message: expect.stringContaining('orderId'),
						});
						expect(answer.error.message).toContain('100 EUR');
					}
				}
				expect(withoutReplayFlags(await send(request))).toEqual(withoutReplayFlags(first));
			}, 60_000);
		},
	);
}
