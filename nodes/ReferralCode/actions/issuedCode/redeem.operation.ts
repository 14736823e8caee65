import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { ledgerFor } from '../../../shared/ledger';
import { runPerItem } from '../../../shared/runner';
import { codeFormatLabels, codeGeneratorReader } from '../codeFormat';
import {
	canonicalCodeReader,
	codeFieldProperty,
	codeJson,
	ledgerFieldLabels,
	ledgerValueLabels,
} from '../ledgerFields';
import {
	inputProperties,
	inputReader,
	inputSourceOf,
	inputSourceProperty,
	labelsFor,
	type InputParameter,
} from '../../../shared/inputs';
import { programReader } from '../../../shared/program';
import { isToolCall, toolCallKey } from '../../../shared/tool';

const referenceInput: InputParameter = {
	field: {
		displayName: 'Reference Field',
		name: 'referenceField',
		type: 'string',
		default: '',
		placeholder: 'e.g. orderId',
		description:
			'Optional: a field naming what the code is redeemed for (an order ID). The same code and reference redeem once, however often the item is replayed.',
	},
	value: {
		name: 'reference',
		displayName: 'Reference',
		holding: 'what the code is redeemed for',
		placeholder: 'e.g. order-1001',
		description:
			'Optional: what the code is redeemed for (an order ID). The same code and reference redeem once, however often the call is repeated.',
	},
};

const properties: INodeProperties[] = [
	inputSourceProperty,
	...codeFieldProperty(),
	...inputProperties(referenceInput),
];

export const description = updateDisplayOptions({ show: { operation: ['redeem'] } }, properties);

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const ledger = await ledgerFor(this);
	const programFor = programReader(this, ledger);
	const generatorFor = codeGeneratorReader(this);
	const source = inputSourceOf(this);
	const codeFor = canonicalCodeReader(this, source);
	const referenceFor = inputReader(this, referenceInput, source);
	const toolCall = isToolCall(this);
	return await runPerItem(
		this,
		async (item, itemIndex) => {
			const program = await programFor(itemIndex);
			const code = codeFor(itemIndex, item.json, generatorFor(itemIndex));
			const given = referenceFor(itemIndex, item.json);
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
				reference:
					reference === undefined || reference === null || reference === ''
						? undefined
						: String(reference),
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
		labelsFor(
			source,
			{ ...codeFormatLabels, ...ledgerFieldLabels, referenceField: 'Reference Field' },
			{ ...ledgerValueLabels, referenceField: 'Reference' },
		),
	);
}
