import type { ToolUse } from '../../../shared/tool';
import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { EngineError } from '../../../../engine/shared/errors';
import { runAggregate } from '../../../shared/aggregate';
import { ledgerFor } from '../../../shared/ledger';
import { readField } from '../../../shared/parameters';
import { couponPoolProperty, locatorText, programReader } from '../../../shared/program';

const properties: INodeProperties[] = [
	couponPoolProperty({
		displayName: 'Pool Name',
		name: 'pool',
		required: true,
		description:
			'The pool a coupon rule takes codes from (Coupon Source: Take One From a Pool, same Pool Name); type a new name to start a pool',
	}),
	{
		displayName: 'Coupon Code Field',
		name: 'codeField',
		type: 'string',
		default: 'code',
		required: true,
		hint: 'The name of the input field holding a coupon code, not the code itself',
		description:
			'Each input item adds the code in this field, e.g. rows of a sheet exported from your shop',
	},
];

export const description = updateDisplayOptions(
	{ show: { operation: ['loadCoupons'] } },
	properties,
);

/** All input items in, one item out: `{pool, added, duplicates, available}`. Loading the same codes again adds nothing. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const ledger = await ledgerFor(this);
	const programFor = programReader(this, ledger);
	const pool = locatorText(this.getNodeParameter('pool', 0, ''));
	const codeField = this.getNodeParameter('codeField', 0, 'code') as string;
	return await runAggregate(
		this,
		async (items) => {
			if (pool === '')
				throw new EngineError('required', 'Enter the pool name the coupon rule uses', {
					field: 'pool',
				});
			const codes = items.map((item, index) => {
				const code = readField(item.json, codeField);
				if (typeof code !== 'string' || code.trim() === '') {
					throw new EngineError(
						'invalid_code_input',
						`Item ${index}: the field "${codeField}" must hold a coupon code as text`,
						{ field: 'codeField', details: { index } },
					);
				}
				return code.trim();
			});
			const programId = await programFor(0);
			const result = await ledger.loadCoupons({ programId, pool, codes });
			return {
				items: [
					{
						json: {
							pool,
							added: result.added,
							duplicates: result.duplicates,
							available: result.available,
						},
					},
				],
			};
		},
		{ pool: 'Pool Name', codeField: 'Coupon Code Field', codes: 'Coupon Code Field' },
	);
}

/** Moves money or points: an AI Agent may run it only with Allow as AI Tool on (issue #19). */
export const toolUse: ToolUse = { moneyMoving: true };
