import { isToolCall, toolCallKey, type ToolUse } from '../../../shared/tool';
import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { EngineError } from '../../../../engine/shared/errors';
import { ledgerFor } from '../../../shared/ledger';
import { parameterReader } from '../../../shared/parameters';
import {
	emptyValueError,
	inputProperties,
	inputReader,
	inputSourceOf,
	isEmptyInput,
	labelsFor,
	type InputParameter,
} from '../../../shared/inputs';
import { runPerItem } from '../../../shared/runner';
import { programReader } from '../../../shared/program';
import { fieldLabels, participantProperties, participantReader } from '../fields';
import { rewardAccountFor } from '../rules';

/** Reference Field, or Reference itself in Values mode. */
const referenceInput: InputParameter = {
	field: {
		displayName: 'Reference Field',
		name: 'referenceField',
		type: 'string',
		default: 'orderId',
		required: true,
		hint: 'The name of the input field with what the points pay for (e.g. an order ID); the same reference never spends twice',
	},
	value: {
		name: 'reference',
		displayName: 'Reference',
		holding: 'what the points pay for (e.g. an order ID)',
		placeholder: 'e.g. order-1001',
		description:
			'What the points pay for (e.g. an order ID); the same reference never spends twice',
	},
};

const properties: INodeProperties[] = [
	...participantProperties(['redeemPoints']),
	{
		displayName: 'Points',
		name: 'points',
		type: 'number',
		default: 100,
		description: 'Points to spend; an expression can read them from the item',
	},
	...inputProperties(referenceInput),
];

export const description = updateDisplayOptions(
	{ show: { operation: ['redeemPoints'] } },
	properties,
);

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const ledger = await ledgerFor(this);
	const programFor = programReader(this, ledger);
	const participantFor = participantReader(this, ledger);
	const serviceFor = rewardAccountFor(this, ledger);
	const pointsFor = parameterReader<number>(this, 'points', 0);
	const source = inputSourceOf(this);
	const referenceFor = inputReader(this, referenceInput, source);
	const referenceFieldFor = parameterReader<string>(this, 'referenceField', 'orderId');
	const toolCall = isToolCall(this);
	return await runPerItem(
		this,
		async (item, itemIndex) => {
			const program = await programFor(itemIndex);
			const participantId = await participantFor(item.json, itemIndex, program);
			// An AI Agent's retry of the same call is a replay: without a reference, the call's arguments are one.
			const given = referenceFor(itemIndex, item.json);
			const reference = toolCall && isEmptyInput(given) ? toolCallKey(this, item.json) : given;
			if (isEmptyInput(reference)) {
				if (source === 'values') throw emptyValueError(referenceInput.value);
				const field = referenceFieldFor(itemIndex);
				throw new EngineError(
					'required',
					`The input has no reference in "${field}"; a redemption needs one so a retry does not spend twice`,
					{ field: 'reference' },
				);
			}
			const points = pointsFor(itemIndex);
			const result = await serviceFor(program).redeemPoints({
				participantId,
				points,
				reference: String(reference),
			});
			return {
				...item.json,
				redemption: {
					participantId,
					points,
					reference: String(reference),
					balance: result.balance,
					replayed: result.replayed,
				},
			};
		},
		labelsFor(source, { ...fieldLabels, reference: 'Reference Field' }, { reference: 'Reference' }),
	);
}

/** Moves money or points: an AI Agent may run it only with Allow as AI Tool on (issue #19). */
export const toolUse: ToolUse = { moneyMoving: true };
