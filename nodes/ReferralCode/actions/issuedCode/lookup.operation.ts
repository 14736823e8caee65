import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
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
import { inputSourceOf, inputSourceProperty, labelsFor } from '../../../shared/inputs';
import { programReader } from '../../../shared/program';

export const description = updateDisplayOptions({ show: { operation: ['lookup'] } }, [
	inputSourceProperty,
	...codeFieldProperty(),
]);

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const ledger = await ledgerFor(this);
	const programFor = programReader(this, ledger);
	const generatorFor = codeGeneratorReader(this);
	const source = inputSourceOf(this);
	const codeFor = canonicalCodeReader(this, source);
	return await runPerItem(
		this,
		async (item, itemIndex) => {
			const program = await programFor(itemIndex);
			const code = codeFor(itemIndex, item.json, generatorFor(itemIndex));
			const record = await ledger.lookupCode({ programId: program, code });
			return {
				...item.json,
				codeLookup: record ? { found: true, ...codeJson(record) } : { found: false, code },
			};
		},
		labelsFor(source, { ...codeFormatLabels, ...ledgerFieldLabels }, ledgerValueLabels),
	);
}
