import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { ledgerFor } from '../../../shared/ledger';
import { parameterReader, readField } from '../../../shared/parameters';
import { runPerItem } from '../../../shared/runner';
import { codeFormatLabels, codeGeneratorReader } from '../codeFormat';
import {
	canonicalCodeFromItem,
	codeFieldProperty,
	codeJson,
	ledgerFieldLabels,
} from '../ledgerFields';
import { programReader } from '../../../shared/program';
import { isToolCall, toolCallKey } from '../../../shared/tool';

const properties: INodeProperties[] = [
	codeFieldProperty(),
	{
		displayName: 'Reference Field',
		name: 'referenceField',
		type: 'string',
		default: '',
		placeholder: 'e.g. orderId',
		description:
			'Optional: a field naming what the code is redeemed for (an order ID). The same code and reference redeem once, however often the item is replayed.',
	},
];

export const description = updateDisplayOptions({ show: { operation: ['redeem'] } }, properties);

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const ledger = await ledgerFor(this);
	const programFor = programReader(this, ledger);
	const generatorFor = codeGeneratorReader(this);
	const codeFieldFor = parameterReader<string>(this, 'codeField', 'code');
	const referenceFieldFor = parameterReader<string>(this, 'referenceField', '');
	const toolCall = isToolCall(this);
	return await runPerItem(
		this,
		async (item, itemIndex) => {
			const program = await programFor(itemIndex);
			const code = canonicalCodeFromItem(
				item.json,
				codeFieldFor(itemIndex),
				generatorFor(itemIndex),
			);
			const referenceField = referenceFieldFor(itemIndex);
			const given = referenceField ? readField(item.json, referenceField) : undefined;
			// An AI Agent's retry of the same call is a replay: without a reference, the call's arguments are one.
			const reference =
				toolCall && (given === undefined || given === null || given === '')
					? toolCallKey(this, item.json)
					: given;
			const existing = await ledger.lookupCode({ programId: program, code });
			if (!existing) {
				return {
					...item.json,
					redemption: {
						redeemed: false,
						reason: 'unknown_code',
						code,
						message: `No code "${code}" in program "${program}"`,
					},
				};
			}
			const result = await ledger.redeemCode({
				programId: program,
				code,
				reference: reference === undefined || reference === null ? undefined : String(reference),
			});
			return {
				...item.json,
				redemption: {
					redeemed: result.redeemed,
					reason: result.reason,
					replayed: result.replayed,
					...codeJson(result.code),
				},
			};
		},
		{ ...codeFormatLabels, ...ledgerFieldLabels, referenceField: 'Reference Field' },
	);
}
