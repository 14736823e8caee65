import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { checkVanityCode } from '../../../../engine/codes';
import { EngineError } from '../../../../engine/shared/errors';
import type { Id, LedgerStore } from '../../../../engine/ledger';
import { ledgerFor } from '../../../shared/ledger';
import { parameterReader, readField } from '../../../shared/parameters';
import { runPerItem } from '../../../shared/runner';
import { codeFormatLabels, codeGeneratorReader } from '../codeFormat';
import { codeJson, ledgerFieldLabels } from '../ledgerFields';
import { programReader } from '../../../shared/program';

const show = { show: { operation: ['issue'] } };

export const description: INodeProperties[] = [
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
		description: 'Whose code it is. A participant who is not enrolled yet is enrolled with that email or external ID.',
		displayOptions: show,
	},
	{
		displayName: 'Owner Field',
		name: 'ownerField',
		type: 'string',
		default: 'email',
		required: true,
		hint: 'The name of the input field holding the owner, not the value itself',
		displayOptions: { show: { operation: ['issue'], ownerBy: ['email', 'externalId', 'id'] } },
	},
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
	{
		displayName: 'Vanity Code Field',
		name: 'vanityField',
		type: 'string',
		default: '',
		placeholder: 'e.g. requestedCode',
		description: 'Optional: a field with a code the participant chose. When it holds a code, that code is issued instead of a random one (checked against the alphabet and blocklist; refused if taken).',
		displayOptions: show,
	},
];

async function ownerId(ledger: LedgerStore, program: string, ownerBy: string, value: unknown): Promise<Id | undefined> {
	if (ownerBy === 'none') return undefined;
	if (value === undefined || value === null || value === '') {
		throw new EngineError('required', 'The owner field is empty; every item needs the owner it names in Owner Field', { field: 'ownerField' });
	}
	if (ownerBy === 'id') {
		if (typeof value !== 'number' && typeof value !== 'string') {
			throw new EngineError('invalid_type', 'The owner field must hold a participant ID (a number)', { field: 'ownerField' });
		}
		return value;
	}
	if (typeof value !== 'string') {
		throw new EngineError('invalid_type', `The owner field must hold text (an ${ownerBy === 'email' ? 'email address' : 'external ID'}), got ${typeof value}`, { field: 'ownerField' });
	}
	const { participant } = await ledger.enrolParticipant(ownerBy === 'email' ? { programId: program, email: value } : { programId: program, externalId: value });
	return participant.id;
}

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
			const owner = await ownerId(ledger, program, ownerBy, ownerBy === 'none' ? undefined : readField(item.json, ownerFieldFor(itemIndex)));
			const days = expiresFor(itemIndex);
			const maxUses = maxUsesFor(itemIndex);
			if (typeof days !== 'number' || days < 0) throw new EngineError('invalid_value', 'Expires After (Days) must be 0 (never) or more', { field: 'expiresInDays' });
			if (typeof maxUses !== 'number' || maxUses < 0 || !Number.isInteger(maxUses)) {
				throw new EngineError('invalid_value', 'Max Uses must be a whole number, 0 for no limit', { field: 'maxUses' });
			}
			const vanityField = vanityFieldFor(itemIndex);
			const requested = vanityField ? readField(item.json, vanityField) : undefined;
			let vanity: string | undefined;
			if (requested !== undefined && requested !== null && requested !== '') {
				const check = checkVanityCode(generator.format, requested);
				if (!check.valid || !check.canonical) {
					throw new EngineError('invalid_vanity_code', `The requested code "${String(requested)}" cannot be used: ${check.reasons.join('; ')}`, { field: 'vanityField' });
				}
				vanity = check.canonical;
			}
			const result = await ledger.issueCode({
				programId: program,
				ownerId: owner,
				...(vanity ? { code: vanity } : { generate: () => generator.next() }),
				expiresAt: days > 0 ? now + days * 86_400_000 : undefined,
				maxUses: maxUses > 0 ? maxUses : undefined,
			});
			return { ...item.json, referralCode: { ...codeJson(result.code), replayed: result.replayed } };
		},
		{ ...codeFormatLabels, ...ledgerFieldLabels, vanityField: 'Vanity Code Field', code: 'Vanity Code Field' },
	);
}
