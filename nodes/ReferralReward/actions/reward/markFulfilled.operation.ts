import type { ToolUse } from '../../../shared/tool';
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
	inputSourceProperty,
	isEmptyInput,
	labelsFor,
	type InputParameter,
} from '../../../shared/inputs';
import { runPerItem } from '../../../shared/runner';
import { programReader } from '../../../shared/program';
import { fieldLabels } from '../fields';
import { rewardAccountFor } from '../rules';

/** Reward ID Field, or Reward ID itself in Values mode. */
const rewardIdInput: InputParameter = {
	field: {
		displayName: 'Reward ID Field',
		name: 'rewardIdField',
		type: 'string',
		default: 'id',
		required: true,
		hint: 'The name of the input field holding the reward ID',
	},
	value: {
		name: 'rewardId',
		displayName: 'Reward ID',
		holding: 'the reward ID',
		placeholder: 'e.g. 42',
	},
};

/** Reference Field, or Reference itself in Values mode (optional either way). */
const referenceInput: InputParameter = {
	field: {
		displayName: 'Reference Field',
		name: 'referenceField',
		type: 'string',
		default: '',
		placeholder: 'e.g. messageId',
		description:
			'Optional: a field with what fulfilled it (a message or payout ID), kept in the reward history',
	},
	value: {
		name: 'reference',
		displayName: 'Reference',
		holding: 'what fulfilled it (a message or payout ID)',
		description: 'Optional: what fulfilled it (a message or payout ID), kept in the reward history',
		required: false,
	},
};

const properties: INodeProperties[] = [
	inputSourceProperty,
	...inputProperties(rewardIdInput),
	...inputProperties(referenceInput),
];

export const description = updateDisplayOptions(
	{ show: { operation: ['markFulfilled'] } },
	properties,
);

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const ledger = await ledgerFor(this);
	const programFor = programReader(this, ledger);
	const serviceFor = rewardAccountFor(this, ledger);
	const source = inputSourceOf(this);
	const idFor = inputReader(this, rewardIdInput, source);
	const referenceFor = inputReader(this, referenceInput, source);
	const idFieldFor = parameterReader<string>(this, 'rewardIdField', 'id');
	return await runPerItem(
		this,
		async (item, itemIndex) => {
			const service = serviceFor(await programFor(itemIndex));
			const id = idFor(itemIndex, item.json);
			if (typeof id !== 'number' && (typeof id !== 'string' || id.trim() === '')) {
				if (source === 'values') throw emptyValueError(rewardIdInput.value);
				throw new EngineError(
					'required',
					`The input has no reward ID in "${idFieldFor(itemIndex)}"`,
					{ field: 'rewardId' },
				);
			}
			const given = referenceFor(itemIndex, item.json);
			// Values: an empty Reference is none; Item Fields: as before, a missing field is none.
			const reference =
				source === 'values' ? (isEmptyInput(given) ? undefined : given) : (given ?? undefined);
			const reward = await service.markFulfilled(
				id,
				reference === undefined ? undefined : String(reference),
			);
			return { ...item.json, ...reward };
		},
		labelsFor(
			source,
			{ ...fieldLabels, rewardId: 'Reward ID Field' },
			{ rewardId: 'Reward ID', reference: 'Reference' },
		),
	);
}

/** Moves money or points: an AI Agent may run it only with Allow as AI Tool on (issue #19). */
export const toolUse: ToolUse = { moneyMoving: true };
