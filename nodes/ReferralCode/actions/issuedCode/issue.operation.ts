import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { issueReferralCode } from '../../../../engine/referrals';
import { ledgerFor } from '../../../shared/ledger';
import { parameterReader, readField } from '../../../shared/parameters';
import { programReader } from '../../../shared/program';
import { runPerItem } from '../../../shared/runner';
import { codeFormatLabels, codeGeneratorReader } from '../codeFormat';
import { codeJson, ledgerFieldLabels } from '../ledgerFields';

const properties: INodeProperties[] = [
	{
		displayName: 'Owner',
		name: 'ownerBy',
		type: 'options',
		options: [
			{ name: 'No Owner (Campaign Code)', value: 'none' },
			{ name: 'Participant Email', value: 'email' },
			{ name: 'Participant External ID', value: 'externalId' },
			{ name: 'Participant Ledger ID', value: 'id' },
		],
		default: 'email',
		description:
			'Whose code it is. A participant who is not enrolled yet is enrolled with that email or external ID.',
	},
	{
		displayName: 'Owner Field',
		name: 'ownerField',
		type: 'string',
		default: 'email',
		required: true,
		hint: 'The name of the input field holding the owner, not the value itself',
		displayOptions: { show: { ownerBy: ['email', 'externalId', 'id'] } },
	},
	{
		displayName: 'Expires After (Days)',
		name: 'expiresInDays',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 0,
		description: 'Days until the code stops working; 0 means never',
	},
	{
		displayName: 'Max Uses',
		name: 'maxUses',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 0,
		description: 'How many times the code can be redeemed; 0 means without limit',
	},
	{
		displayName: 'Vanity Code Field',
		name: 'vanityField',
		type: 'string',
		default: '',
		placeholder: 'e.g. requestedCode',
		description:
			'Optional: a field with a code the participant chose. When it holds a code, that code is issued instead of a random one (checked against the alphabet and blocklist; refused if taken).',
	},
];

export const description = updateDisplayOptions({ show: { operation: ['issue'] } }, properties);

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const ledger = await ledgerFor(this);
	const programFor = programReader(this, ledger);
	const generatorFor = codeGeneratorReader(this);
	const ownerByFor = parameterReader<string>(this, 'ownerBy', 'email');
	const ownerFieldFor = parameterReader<string>(this, 'ownerField', 'email');
	const expiresFor = parameterReader<number>(this, 'expiresInDays', 0);
	const maxUsesFor = parameterReader<number>(this, 'maxUses', 0);
	const vanityFieldFor = parameterReader<string>(this, 'vanityField', '');
	const now = Date.now();
	return await runPerItem(
		this,
		async (item, itemIndex) => {
			const program = await programFor(itemIndex);
			const generator = generatorFor(itemIndex);
			const ownerBy = ownerByFor(itemIndex);
			const vanityField = vanityFieldFor(itemIndex);
			const result = await issueReferralCode(ledger, {
				programId: program,
				generator,
				ownerBy,
				owner: ownerBy === 'none' ? undefined : readField(item.json, ownerFieldFor(itemIndex)),
				expiresInDays: expiresFor(itemIndex),
				maxUses: maxUsesFor(itemIndex),
				vanityCode: vanityField ? readField(item.json, vanityField) : undefined,
				now,
			});
			return {
				...item.json,
				referralCode: { ...codeJson(result.code), replayed: result.replayed },
			};
		},
		{
			...codeFormatLabels,
			...ledgerFieldLabels,
			vanityField: 'Vanity Code Field',
			code: 'Vanity Code Field',
		},
	);
}
