import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { normalizeCode } from '../../../../engine/codes';
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
import { codeTextOf, codeValue } from '../ledgerFields';
import { runPerItem } from '../../../shared/runner';
import { codeFormatLabels, codeGeneratorReader } from '../codeFormat';

const codeInput: InputParameter = {
	field: {
		displayName: 'Code Field',
		name: 'codeField',
		type: 'string',
		default: 'code',
		required: true,
		placeholder: 'e.g. referralCode or body.code',
		hint: 'The name of the input field holding the code, not the code itself. Dots reach nested fields.',
		description: 'Field of each input item that holds the code as the person typed it',
	},
	value: { ...codeValue, placeholder: 'e.g. friend-k7qm 3xh9' },
};

const properties: INodeProperties[] = [
	inputSourceProperty,
	...inputProperties(codeInput),
	{
		displayName: 'Put Result In Field',
		name: 'resultField',
		type: 'string',
		default: 'codeCheck',
		required: true,
		description:
			'Field added to each item with the canonical code, whether it is valid and why not',
	},
];

export const description = updateDisplayOptions({ show: { operation: ['normalize'] } }, properties);

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const generatorFor = codeGeneratorReader(this);
	const source = inputSourceOf(this);
	const codeFieldFor = parameterReader<string>(this, 'codeField', 'code');
	const codeFor = inputReader(this, codeInput, source);
	const resultFieldFor = parameterReader<string>(this, 'resultField', 'codeCheck');
	return await runPerItem(
		this,
		(item, itemIndex) => {
			const value = codeFor(itemIndex, item.json);
			if (source === 'values') codeTextOf(value, codeInput.value);
			else if (
				typeof value !== 'string' &&
				!(typeof value === 'number' && Number.isFinite(value))
			) {
				throw new EngineError(
					'invalid_code_input',
					value === undefined
						? `The input has no field "${codeFieldFor(itemIndex)}"; set Code Field to the name of the field that holds the code`
						: `The field "${codeFieldFor(itemIndex)}" must hold the code as text, got ${value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value}`,
					{ field: 'codeField' },
				);
			}
			const format = generatorFor(itemIndex).format;
			return {
				...item.json,
				[resultFieldFor(itemIndex)]: {
					input: value,
					...normalizeCode(format, value),
				},
			};
		},
		labelsFor(
			source,
			{ ...codeFormatLabels, codeField: 'Code Field' },
			{ codeField: 'Code', code: 'Code' },
		),
	);
}
