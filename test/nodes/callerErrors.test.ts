/* Issue #15: errors meant for the workflow builder ("set Refund Fields › Order ID Field") reached API
 * callers through the sample workflows, which pass the error message on. The message now speaks of
 * the request ("orderId is required"); the editor hint stays in the node error's description. */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { IDataObject } from 'n8n-workflow';
import { closeAllLedgers } from '../../engine/ledger';
import { runWorkflow, singleNodeWorkflow } from '../harness';

afterAll(async () => {
	await closeAllLedgers();
});

const credential = {
	backend: 'sqlite',
	path: path.join(mkdtempSync(path.join(os.tmpdir(), 'rm-caller-errors-')), 'ledger.sqlite'),
};

async function run(parameters: IDataObject, item: IDataObject, continueOnFail: boolean) {
	const result = await runWorkflow(
		singleNodeWorkflow(
			{
				type: 'referral',
				parameters: { program: 'shop', ...parameters },
				continueOnFail,
				credentials: { referralLedgerApi: { id: '1', name: 'Ledger' } },
			},
			[item],
		),
		{ credentials: { referralLedgerApi: credential as never } },
	);
	return result;
}

const cases: Array<[string, IDataObject, IDataObject, string, RegExp]> = [
	[
		'Reverse (Refund) without an order ID',
		{ resource: 'referral', operation: 'reverse', reverseBy: 'orderId', refundFields: {} },
		{ refundedAmount: 10 },
		'orderId is required',
		/Refund Fields › Order ID Field/,
	],
	[
		'Get Participant without an email',
		{ resource: 'participant', operation: 'get', findBy: 'email', lookupField: 'email' },
		{ name: 'Ann' },
		'email is required',
		/set Lookup Field to the field holding the participant's email/,
	],
	[
		'Get Referral without an ID',
		{ resource: 'referral', operation: 'get', referralIdField: 'referralId' },
		{},
		'referralId is required',
		/set Referral ID Field/,
	],
];

describe('errors answer callers in terms of their request; the editor keeps the hint', () => {
	it.each(cases)('%s', async (_name, parameters, item, message, hint) => {
		const continued = (await run(parameters, item, true)).json('Node')[0] as {
			error: { message: string; field: string };
		};
		expect(continued.error.message.replace(/ \[item \d+\]$/, '')).toBe(message);
		expect(continued.error.message).not.toMatch(/ set |Field/);

		const stopped = await run(parameters, item, false);
		const error = stopped.run.data.resultData.error as
			{ message: string; description?: string } | undefined;
		expect(error?.message).toBe(`${message} [item 0]`);
		expect(error?.description).toMatch(hint);
		expect(error?.description).toMatch(/\(item 0\)\.$/);
	});
});
