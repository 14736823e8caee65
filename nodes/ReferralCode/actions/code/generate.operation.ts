import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { MAX_CODES_PER_REQUEST } from '../../../../engine/codes';
import { parameterReader } from '../../../shared/parameters';
import { runPerItem } from '../../../shared/runner';
import { codeFormatLabels, codeGeneratorReader } from '../codeFormat';

const properties: INodeProperties[] = [
	{
		displayName: 'Number of Codes',
		name: 'count',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: MAX_CODES_PER_REQUEST },
		default: 10,
		description: 'How many distinct codes to generate for each input item',
	},
	{
		displayName: 'Output',
		name: 'output',
		type: 'options',
		options: [
			{
				name: 'One Item per Code',
				value: 'itemPerCode',
				description: 'Each code in its own item, field "code"',
			},
			{
				name: 'One Item with All Codes',
				value: 'singleItem',
				description: 'A list of codes with the entropy and collision probability of the batch',
			},
		],
		default: 'itemPerCode',
	},
];

export const description = updateDisplayOptions({ show: { operation: ['generate'] } }, properties);

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const generatorFor = codeGeneratorReader(this);
	const countFor = parameterReader<number>(this, 'count', 10);
	const outputFor = parameterReader<string>(this, 'output', 'itemPerCode');
	return await runPerItem(
		this,
		(_item, itemIndex) => {
			const generator = generatorFor(itemIndex);
			const count = countFor(itemIndex);
			const codes = generator.generate(count);
			if (outputFor(itemIndex) === 'singleItem') {
				return { codes, count: codes.length, ...generator.describe(count) };
			}
			return codes.map((code) => ({ code }));
		},
		{ ...codeFormatLabels, count: 'Number of Codes' },
	);
}
