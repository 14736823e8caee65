import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { checkVanityCode } from '../../../../engine/codes';
import { EngineError } from '../../../../engine/shared/errors';
import { parameterReader } from '../../../shared/parameters';
import {
	inputProperties,
	inputReader,
	inputSourceOf,
	inputSourceProperty,
	labelsFor,
	type InputParameter,
} from '../../../shared/inputs';
import { codeTextOf } from '../ledgerFields';
import { runPerItem } from '../../../shared/runner';
import { codeFormatLabels, codeGeneratorReader } from '../codeFormat';

const codeInput: InputParameter = {
	field: {
		displayName: 'Requested Code Field',
		name: 'codeField',
		type: 'string',
		default: 'vanityCode',
		required: true,
		placeholder: 'e.g. requestedCode',
		hint: 'The name of the input field holding the requested code, not the code itself',
		description: 'Field of each input item with the custom code a participant asked for',
	},
	value: {
		name: 'code',
		displayName: 'Requested Code',
		holding: 'the custom code the participant asked for',
		placeholder: 'e.g. ANNA2026',
		description: 'The custom code a participant asked for',
	},
};

const properties: INodeProperties[] = [
	inputSourceProperty,
	...inputProperties(codeInput),
	{
		displayName: 'Put Result In Field',
		name: 'resultField',
		type: 'string',
		default: 'vanityCheck',
		required: true,
		description:
			'Field added to each item with the canonical code, whether it is allowed and every rule it breaks',
	},
];

export const description = updateDisplayOptions(
	{ show: { operation: ['validateVanity'] } },
	properties,
);

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const generatorFor = codeGeneratorReader(this);
	const source = inputSourceOf(this);
	const codeFieldFor = parameterReader<string>(this, 'codeField', 'vanityCode');
	const codeFor = inputReader(this, codeInput, source);
	const resultFieldFor = parameterReader<string>(this, 'resultField', 'vanityCheck');
	return await runPerItem(
		this,
		(item, itemIndex) => {
			const read = codeFor(itemIndex, item.json);
			const value = source === 'values' ? codeTextOf(read, codeInput.value) : read;
			if (typeof value !== 'string') {
				const field = codeFieldFor(itemIndex);
				throw new EngineError(
					'invalid_code_input',
					value === undefined
						? `The input has no field "${field}"; set Requested Code Field to the name of the field that holds the code`
						: `The field "${field}" must hold the requested code as text, got ${value === null ? 'null' : typeof value}`,
					{ field: 'codeField' },
				);
			}
			return {
				...item.json,
				[resultFieldFor(itemIndex)]: {
					input: value,
					...checkVanityCode(generatorFor(itemIndex).format, value),
				},
			};
		},
		labelsFor(
			source,
			{ ...codeFormatLabels, codeField: 'Requested Code Field' },
			{ codeField: 'Requested Code', code: 'Requested Code' },
		),
	);
}
