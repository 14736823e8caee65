import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { parameterReader } from '../../shared/parameters';
import { runPerItem } from '../../shared/runner';
import { fieldLabels, fieldOption, fieldsReader, participantLookupProperties, participantLookupReader, serviceReader, toText } from './common';
import { executeSignUp, signUpCallerProperties, signUpFieldsProperty } from './signUp';

/** Participant: enrol, get, update, list, erase. */

const show = (operation: string[]) => ({ show: { resource: ['participant'], operation } });

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['participant'] } },
		options: [
			{ name: 'Enrol', value: 'enrol', action: 'Enrol a participant', description: 'Enrol by email or external ID (idempotent), issue their code and share link, and record the referral when a code came with them' },
			{ name: 'Erase', value: 'erase', action: 'Erase a participant', description: 'GDPR erasure: personal data removed, referrals, points and counts kept' },
			{ name: 'Get', value: 'get', action: 'Get a participant', description: 'A participant with code, share link, referrals, qualified referrals, points, tier, badges and rank' },
			{ name: 'List', value: 'list', action: 'List participants', description: 'Participants page by page' },
			{ name: 'Update', value: 'update', action: 'Update a participant', description: 'Change email, external ID, name, phone or metadata' },
		],
		default: 'enrol',
	},
	{
		displayName: 'Record Referral When a Code Is Present',
		name: 'recordReferral',
		type: 'boolean',
		default: true,
		description: 'Whether to also record the referral (with its fraud checks) when the input carries a referral code or referrer ID',
		displayOptions: show(['enrol']),
	},
	...signUpCallerProperties(['enrol']).map((property) => ({ ...property, displayOptions: { show: { ...show(['enrol']).show, ...property.displayOptions?.show } } })),
	{ ...signUpFieldsProperty(['enrol']), displayOptions: show(['enrol']) },
	...participantLookupProperties(show(['get', 'update', 'erase'])),
	{
		displayName: 'Update Fields',
		name: 'updateFields',
		type: 'collection',
		placeholder: 'Change Field Name',
		default: {},
		description: 'Names of the input fields holding the new values; only fields present in the item are changed',
		displayOptions: show(['update']),
		options: [
			fieldOption('External ID Field', 'externalId', 'newExternalId'),
			fieldOption('Metadata Field', 'metadata', 'metadata', 'Name of the field holding an object that replaces the participant\'s metadata'),
			fieldOption('Name Field', 'name', 'name'),
			fieldOption('New Email Field', 'email', 'newEmail'),
			fieldOption('Phone Field', 'phone', 'phone'),
		],
	},
	{
		displayName: 'Limit',
		name: 'limit',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 50,
		description: 'Max number of results to return',
		displayOptions: show(['list']),
	},
	{
		displayName: 'Options',
		name: 'listOptions',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: show(['list']),
		options: [
			{ displayName: 'After ID', name: 'afterId', type: 'number', default: 0, description: 'Only participants with a larger ID (the last ID of the previous page)' },
			{ displayName: 'Created Since', name: 'createdSince', type: 'dateTime', default: '' },
			{ displayName: 'Created Until', name: 'createdUntil', type: 'dateTime', default: '' },
		],
	},
];

export async function execute(this: IExecuteFunctions, operation: string): Promise<INodeExecutionData[]> {
	if (operation === 'enrol') return await executeSignUp(this, 'enrol');
	const { serviceFor } = await serviceReader(this);
	if (operation === 'list') {
		const limitFor = parameterReader<number>(this, 'limit', 50);
		const optionsFor = parameterReader<{ afterId?: number; createdSince?: string; createdUntil?: string }>(this, 'listOptions', {});
		return await runPerItem(
			this,
			async (_item, itemIndex) => {
				const options = optionsFor(itemIndex);
				const rows = await (await serviceFor(itemIndex)).listParticipants({
					limit: limitFor(itemIndex),
					afterId: options.afterId ? options.afterId : undefined,
					createdSince: options.createdSince || undefined,
					createdUntil: options.createdUntil || undefined,
				});
				return rows.map((participant) => ({ participant })) as never;
			},
			fieldLabels,
		);
	}
	const lookupFor = participantLookupReader(this);
	const updateFor = fieldsReader(this, 'updateFields', { email: 'newEmail', externalId: 'newExternalId', name: 'name', phone: 'phone', metadata: 'metadata' });
	return await runPerItem(
		this,
		async (item, itemIndex) => {
			const service = await serviceFor(itemIndex);
			const query = lookupFor(item.json, itemIndex);
			if (operation === 'get') return (await service.getParticipant(query)) as never;
			if (operation === 'erase') return (await service.eraseParticipant(query)) as never;
			const f = updateFor(item.json, itemIndex);
			const participant = await service.updateParticipant(query, {
				email: toText(f.email),
				externalId: toText(f.externalId),
				name: toText(f.name),
				phone: toText(f.phone),
				metadata: f.metadata as Record<string, unknown> | undefined,
			});
			return { participant } as never;
		},
		fieldLabels,
	);
}
