import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { ledgerFor } from '../../../shared/ledger';
import { parameterReader } from '../../../shared/parameters';
import { runPerItem } from '../../../shared/runner';
import { codeFormatLabels, codeGeneratorReader } from '../codeFormat';
import {
	canonicalCodeReader,
	codeFieldProperty,
	codeJson,
	ledgerFieldLabels,
	ledgerValueLabels,
} from '../ledgerFields';
import { inputSourceOf, inputSourceProperty, labelsFor } from '../../../shared/inputs';
import { programReader } from '../../../shared/program';

const properties: INodeProperties[] = [
	inputSourceProperty,
	...codeFieldProperty(),
	{
		displayName: 'Reason',
		name: 'reason',
		type: 'string',
		default: '',
		placeholder: 'e.g. leaked on a coupon site',
		description: 'Why the code is revoked; kept with the code',
	},
];

export const description = updateDisplayOptions({ show: { operation: ['revoke'] } }, properties);

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const ledger = await ledgerFor(this);
	const programFor = programReader(this, ledger);
	const generatorFor = codeGeneratorReader(this);
	const source = inputSourceOf(this);
	const codeFor = canonicalCodeReader(this, source);
	const reasonFor = parameterReader<string>(this, 'reason', '');
	return await runPerItem(
		this,
		async (item, itemIndex) => {
			const program = await programFor(itemIndex);
			const code = codeFor(itemIndex, item.json, generatorFor(itemIndex));
			const result = await ledger.revokeCode({
				programId: program,
				code,
				reason: reasonFor(itemIndex) || undefined,
			});
			return {
				...item.json,
				revocation: {
					revoked: result.revoked,
					replayed: result.replayed,
					...codeJson(result.code),
				},
			};
		},
		labelsFor(source, { ...codeFormatLabels, ...ledgerFieldLabels }, ledgerValueLabels),
	);
}
