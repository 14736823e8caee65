import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { ledgerFor } from '../../../shared/ledger';
import { parameterReader } from '../../../shared/parameters';
import { runPerItem } from '../../../shared/runner';
import { codeFormatLabels, codeGeneratorReader } from '../codeFormat';
import {
	canonicalCodeFromItem,
	codeFieldProperty,
	codeJson,
	ledgerFieldLabels,
} from '../ledgerFields';
import { programReader } from '../../../shared/program';

export const description = updateDisplayOptions({ show: { operation: ['lookup'] } }, [
	codeFieldProperty(),
]);

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const ledger = await ledgerFor(this);
	const programFor = programReader(this, ledger);
	const generatorFor = codeGeneratorReader(this);
	const codeFieldFor = parameterReader<string>(this, 'codeField', 'code');
	return await runPerItem(
		this,
		async (item, itemIndex) => {
			const program = await programFor(itemIndex);
			const code = canonicalCodeFromItem(
				item.json,
				codeFieldFor(itemIndex),
				generatorFor(itemIndex),
			);
			const record = await ledger.lookupCode({ programId: program, code });
			return {
				...item.json,
				codeLookup: record ? { found: true, ...codeJson(record) } : { found: false, code },
			};
		},
		{ ...codeFormatLabels, ...ledgerFieldLabels },
	);
}
