import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { issueReferralCode } from '../../../../engine/referrals';
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
	wrongValueError,
	type InputParameter,
} from '../../../shared/inputs';
import { programReader } from '../../../shared/program';
import { runPerItem } from '../../../shared/runner';
import { codeFormatLabels, codeGeneratorReader } from '../codeFormat';
import { codeJson, ledgerFieldLabels, ledgerValueLabels } from '../ledgerFields';

const show = { show: { operation: ['issue'] } };

const ownerInput: InputParameter = {
	field: {
		displayName: 'Owner Field',
		name: 'ownerField',
		type: 'string',
		default: 'email',
		required: true,
		hint: 'The name of the input field holding the owner, not the value itself',
		displayOptions: { show: { operation: ['issue'], ownerBy: ['email', 'externalId', 'id'] } },
	},
	value: {
		name: 'owner',
		displayName: 'Owner',
		holding: "the owner's email, external ID or participant ID (as Owner says)",
		placeholder: 'e.g. ann@example.com',
		description: "The owner's email, external ID or participant ID, as Owner says",
	},
};

const vanityInput: InputParameter = {
	field: {
		displayName: 'Vanity Code Field',
		name: 'vanityField',
		type: 'string',
		default: '',
		placeholder: 'e.g. requestedCode',
		description:
			'Optional: a field with a code the participant chose. When it holds a code, that code is issued instead of a random one (checked against the alphabet and blocklist; refused if taken).',
		displayOptions: show,
	},
	value: {
		name: 'vanityCode',
		displayName: 'Vanity Code',
		holding: 'the code the participant chose',
		placeholder: 'e.g. ANNA2026',
		description:
			'Optional: a code the participant chose, issued instead of a random one (checked against the alphabet and blocklist; refused if taken)',
	},
};

/** In Values mode an empty owner is named as the Owner parameter; an ID given as a number stays one. */
function ownerValue(value: unknown, ownerBy: string): unknown {
	if (isEmptyInput(value)) throw emptyValueError(ownerInput.value);
	if (typeof value === 'number' && ownerBy === 'externalId') return String(value);
	if (typeof value !== 'string' && !(typeof value === 'number' && ownerBy === 'id'))
		throw wrongValueError(ownerInput.value, value);
	return value;
}

export const description: INodeProperties[] = [
	{ ...inputSourceProperty, displayOptions: show },
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
		displayOptions: show,
	},
	...inputProperties(ownerInput),
	{
		displayName: 'Expires After (Days)',
		name: 'expiresInDays',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 0,
		description: 'Days until the code stops working; 0 means never',
		displayOptions: show,
	},
	{
		displayName: 'Max Uses',
		name: 'maxUses',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 0,
		description: 'How many times the code can be redeemed; 0 means without limit',
		displayOptions: show,
	},
	...inputProperties(vanityInput),
];

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const ledger = await ledgerFor(this);
	const programFor = programReader(this, ledger);
	const generatorFor = codeGeneratorReader(this);
	const ownerByFor = parameterReader<string>(this, 'ownerBy', 'email');
	const source = inputSourceOf(this);
	const ownerFor = inputReader(this, ownerInput, source);
	const expiresFor = parameterReader<number>(this, 'expiresInDays', 0);
	const maxUsesFor = parameterReader<number>(this, 'maxUses', 0);
	const vanityFor = inputReader(this, vanityInput, source);
	const now = Date.now();
	return await runPerItem(
		this,
		async (item, itemIndex) => {
			const program = await programFor(itemIndex);
			const generator = generatorFor(itemIndex);
			const ownerBy = ownerByFor(itemIndex);
			const owner = ownerBy === 'none' ? undefined : ownerFor(itemIndex, item.json);
			const vanityCode = vanityFor(itemIndex, item.json);
			const result = await issueReferralCode(ledger, {
				programId: program,
				generator,
				ownerBy,
				owner: source === 'values' && ownerBy !== 'none' ? ownerValue(owner, ownerBy) : owner,
				expiresInDays: expiresFor(itemIndex),
				maxUses: maxUsesFor(itemIndex),
				vanityCode: source === 'values' && isEmptyInput(vanityCode) ? undefined : vanityCode,
				now,
			});
			return {
				...item.json,
				referralCode: { ...codeJson(result.code), replayed: result.replayed },
			};
		},
		labelsFor(
			source,
			{
				...codeFormatLabels,
				...ledgerFieldLabels,
				vanityField: 'Vanity Code Field',
				code: 'Vanity Code Field',
			},
			{ ...ledgerValueLabels, vanityField: 'Vanity Code', code: 'Vanity Code' },
		),
	);
}
