/* Read Inputs From › Values (issue #19): each input parameter holds the value itself, as an
 * expression or an AI Agent's $fromAI fills it, instead of naming a field of the item. A value with
 * dots or an @ is not read as a path, a number stays a number, an empty value is an error naming
 * the parameter and what to pass. Item Fields mode is covered, unchanged, by the other node tests. */
import type { IDataObject } from 'n8n-workflow';
import { afterAll, describe, expect, it } from 'vitest';
import { closeAllLedgers } from '../../engine/ledger';
import { runWorkflow, singleNodeWorkflow } from '../harness';
import { ledgerNodeBackends, runLedgerNode, type LedgerWorld } from './ledgerBackends';

afterAll(async () => {
	await closeAllLedgers();
});

type Json = Record<string, any>;

/** Runs a node without a ledger, Continue On Fail on; the first output's items. */
async function runNode(
	type: string,
	parameters: IDataObject,
	items: IDataObject[],
): Promise<Json[]> {
	const result = await runWorkflow(
		singleNodeWorkflow({ type, parameters, continueOnFail: true } as never, items as never),
	);
	return result.json('Node') as Json[];
}

const sqlite = ledgerNodeBackends('values')[0][1];

async function withLedger(run: (world: LedgerWorld) => Promise<void>): Promise<void> {
	const world = await sqlite();
	try {
		await run(world);
	} finally {
		await world.cleanup();
	}
}

describe('Referral Code in Values mode', () => {
	const normalize = (code: string) =>
		runNode('referralCode', { operation: 'normalize', inputSource: 'values', code }, [
			{ code: 'not-this-one' },
		]);

	it('checks the code given as a value; dots and @ are not a path, a number stays a number', async () => {
		const [dotted] = await normalize('ann@example.com');
		expect(dotted.codeCheck).toMatchObject({ input: 'ann@example.com', valid: false });
		const [typed] = await normalize('={{ $json.code.toUpperCase() }}');
		expect(typed.codeCheck.input).toBe('NOT-THIS-ONE');
		const [number] = await normalize('={{ 123456 }}');
		expect(number.codeCheck.input).toBe(123456);
	});

	it('names the parameter and what to pass when the code is empty', async () => {
		const [empty] = await normalize('={{ $json.missing }}');
		expect(empty.error.message).toBe('Code is empty: pass the referral code [item 0]');
		expect(empty.error.parameter).toBe('Code');
		const [list] = await normalize('={{ [1, 2] }}');
		expect(list.error.message).toContain('Code must be the code as text, got a list');
	});

	it('validates a requested vanity code given as a value', async () => {
		const [result] = await runNode(
			'referralCode',
			{ operation: 'validateVanity', inputSource: 'values', code: 'ANNA2345' },
			[{ vanityCode: 'ignored' }],
		);
		expect(result.vanityCheck).toMatchObject({ input: 'ANNA2345', valid: true });
	});

	it('issues, looks up, redeems and revokes with values (ledger)', async () => {
		await withLedger(async ({ credential }) => {
			const node = (parameters: IDataObject, items: IDataObject[] = [{}]) =>
				runLedgerNode(credential, 'referralCode', { resource: 'issuedCode', ...parameters }, items);
			const [issued] = await node({
				operation: 'issue',
				inputSource: 'values',
				owner: 'ann@example.com',
			});
			const code = issued.referralCode.code as string;
			expect(code).toMatch(/^[2-9A-Z-]+$/);
			const [again] = await node({
				operation: 'issue',
				inputSource: 'values',
				owner: 'ann@example.com',
			});
			expect(again.referralCode).toMatchObject({ code, replayed: true });

			const [found] = await node(
				{ operation: 'lookup', inputSource: 'values', code: '={{ $json.typed }}' },
				[{ typed: code.toLowerCase() }],
			);
			expect(found.codeLookup).toMatchObject({ found: true, code });

			const redeem = () =>
				node({ operation: 'redeem', inputSource: 'values', code, reference: '={{ 1001 }}' });
			const [first] = await redeem();
			const [replay] = await redeem();
			expect(first.redemption).toMatchObject({ redeemed: true, uses: 1 });
			expect(replay.redemption).toMatchObject({ redeemed: true, replayed: true, uses: 1 });

			const [emptyOwner] = await node({
				operation: 'issue',
				inputSource: 'values',
				owner: '={{ $json.missing }}',
			});
			expect(emptyOwner.error.message).toContain('Owner is empty: pass the owner');
			const [emptyCode] = await node({
				operation: 'revoke',
				inputSource: 'values',
				code: '={{ $json.missing }}',
			});
			expect(emptyCode.error.message).toBe('Code is empty: pass the referral code [item 0]');
		});
	});
});

describe('Referral in Values mode', () => {
	it('enrols, finds and updates a participant from values; dots and @ are not a path', async () => {
		await withLedger(async ({ credential }) => {
			const node = (parameters: IDataObject) =>
				runLedgerNode(credential, 'referral', { inputSource: 'values', ...parameters }, [
					{ email: 'someone.else@example.com' },
				]);
			const [enrolled] = await node({
				resource: 'participant',
				operation: 'enrol',
				inputValues: { email: 'ann@example.com', name: '={{ "Ann" }}', externalId: '={{ 42 }}' },
			});
			expect(enrolled.participant).toMatchObject({ email: 'ann@example.com', name: 'Ann' });
			const id = enrolled.participant.id as number;

			const [byEmail] = await node({
				resource: 'participant',
				operation: 'get',
				findBy: 'email',
				lookupValue: 'ann@example.com',
			});
			expect(byEmail.participant.id).toBe(id);
			const [byExternalId] = await node({
				resource: 'participant',
				operation: 'get',
				findBy: 'externalId',
				lookupValue: '={{ 42 }}',
			});
			expect(byExternalId.participant.id).toBe(id);
			const [byId] = await node({
				resource: 'participant',
				operation: 'get',
				findBy: 'participantId',
				lookupValue: `={{ ${id} }}`,
			});
			expect(byId.participant.email).toBe('ann@example.com');

			const [updated] = await node({
				resource: 'participant',
				operation: 'update',
				findBy: 'email',
				lookupValue: 'ann@example.com',
				updateValues: { name: 'Ann B.' },
			});
			expect(updated.participant).toMatchObject({ id, name: 'Ann B.' });

			const [empty] = await node({
				resource: 'participant',
				operation: 'get',
				findBy: 'email',
				lookupValue: '={{ $json.missing }}',
			});
			expect(empty.error.message).toBe("Email is empty: pass the participant's email [item 0]");
			expect(empty.error.parameter).toBe('Email, External ID or Participant ID');

			const [noReferral] = await node({
				resource: 'referral',
				operation: 'get',
				referralId: '={{ $json.missing }}',
			});
			expect(noReferral.error.message).toBe('Referral ID is empty: pass the referral ID [item 0]');
		});
	});

	it('records a referral and qualifies it with an amount given as a number', async () => {
		await withLedger(async ({ credential }) => {
			const node = (parameters: IDataObject) =>
				runLedgerNode(credential, 'referral', { inputSource: 'values', ...parameters }, [{}]);
			const [referrer] = await node({
				resource: 'participant',
				operation: 'enrol',
				inputValues: { email: 'ann@example.com' },
			});
			const code = referrer.participant.code as string;
			const [recorded] = await node({
				resource: 'referral',
				operation: 'record',
				inputValues: { email: 'bob@example.com', referralCode: code },
			});
			expect(recorded.referral).toMatchObject({ status: 'pending' });
			const [qualified] = await node({
				resource: 'referral',
				operation: 'qualify',
				findBy: 'email',
				lookupValue: 'bob@example.com',
				conversionValues: { orderId: 'order.1001', amount: '={{ 80 }}', currency: 'EUR' },
			});
			expect(qualified.referral).toMatchObject({ status: 'qualified' });
			const [got] = await node({
				resource: 'referral',
				operation: 'get',
				referralId: `={{ ${JSON.stringify(recorded.referral.id)} }}`,
			});
			expect(got.referral.id).toEqual(recorded.referral.id);
		});
	});
});

describe('Lead Score in Values mode', () => {
	const rules = {
		rule: [
			{
				name: 'Size',
				group: 'fit',
				field: 'company.employees',
				operator: 'greaterThan',
				number: 100,
				points: 30,
			},
			{
				name: 'Work email',
				group: 'fit',
				field: 'email',
				operator: 'contains',
				value: '@acme.example',
				points: 20,
			},
			{
				name: 'Demo',
				group: 'engagement',
				field: 'demo',
				operator: 'equals',
				value: 'yes',
				points: 10,
			},
		],
	};
	const score = (leadAttributes: IDataObject) =>
		runNode(
			'leadScore',
			{
				operation: 'scoreLeads',
				inputSource: 'values',
				leadAttributes,
				rules,
				output: 'all',
				options: { scoreAsOf: '2026-01-01T00:00:00Z' },
			},
			[{ email: 'not-the-lead@other.example', company: { employees: 1 } }],
		);

	it('scores the attributes given as values: nested names, a number stays a number, an email is not a path', async () => {
		const [lead] = await score({
			entry: [
				{ name: 'company.employees', value: '={{ 250 }}' },
				{ name: 'email', value: 'ann@acme.example' },
				{ name: 'demo', value: '' },
			],
		});
		expect(lead.leadScore.total).toBe(50);
		const matched = (lead.leadScore.explanation.rules as Json[]).filter((r) => r.matched);
		expect(matched.map((r) => r.rule).sort()).toEqual(['Size', 'Work email']);
		// The input item passes through unchanged beside the result.
		expect(lead.email).toBe('not-the-lead@other.example');
	});

	it('names Lead Attributes when none are given', async () => {
		const [lead] = await score({});
		expect(lead.error.message).toContain("Lead Attributes is empty: pass the lead's attributes");
	});

	it('Item Fields: a rule field whose expression returns a number gets a clear error, not a crash', async () => {
		const [lead] = await runNode(
			'leadScore',
			{
				operation: 'scoreLeads',
				rules: { rule: [{ group: 'fit', field: '={{ 5 }}', operator: 'exists', points: 1 }] },
			},
			[{ a: 1 }],
		);
		expect(lead.error.message).toContain('needs a field path');
		expect(lead.error.message).not.toContain('trim');
	});
});

describe('Templated Message in Values mode', () => {
	it('renders with Template Values: a number stays a number', async () => {
		const [item] = await runNode(
			'templatedMessage',
			{
				resource: 'email',
				operation: 'render',
				inputSource: 'values',
				subject: 'Hi {{firstName}}',
				html: '<p>{{firstName}} earned {{amount}} points at {{site}}</p>',
				templateValues: {
					entry: [
						{ name: 'firstName', value: 'Ann' },
						{ name: 'amount', value: '={{ 12.5 }}' },
						{ name: 'site', value: 'shop.example.com' },
					],
				},
			},
			[{ firstName: 'Not Ann' }],
		);
		expect(item.rendered.subject).toBe('Hi Ann');
		expect(item.rendered.html).toContain('Ann earned 12.5 points at shop.example.com');
	});

	it('unsubscribes and resubscribes the address given as a value; empty names the parameter', async () => {
		await withLedger(async ({ credential }) => {
			const node = (parameters: IDataObject) =>
				runLedgerNode(
					credential,
					'templatedMessage',
					{ resource: 'email', inputSource: 'values', ...parameters },
					[{ email: 'someone.else@example.com' }],
				);
			const [unsubscribed] = await node({ operation: 'unsubscribe', email: 'Ann@Example.com' });
			expect(unsubscribed.subscription).toMatchObject({
				address: 'ann@example.com',
				suppressed: true,
			});
			const [resubscribed] = await node({ operation: 'resubscribe', email: 'ann@example.com' });
			expect(resubscribed.subscription).toMatchObject({
				address: 'ann@example.com',
				suppressed: false,
			});
			const [empty] = await node({ operation: 'unsubscribe', email: '={{ $json.missing }}' });
			expect(empty.error.message).toBe(
				"Email is empty: pass the recipient's email address [item 0]",
			);
		});
	});
});
