import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { parameterReader } from '../../shared/parameters';
import { runPerItem } from '../../shared/runner';
import { fieldLabels, fieldOption, fieldsReader, participantLookupProperties, participantLookupReader, serviceReader, toText } from './common';
import { executeSignUp, signUpCallerProperties, signUpFieldsProperty } from './signUp';
import { DEFAULT_PARTICIPANT_LINK_DAYS } from '../../../engine/shared/links';
import type { ReferralService } from '../../../engine/referrals';
import { linkSecretsReader, statusPageUrlProperty } from '../../shared/linkSecret';
import { readField } from '../../shared/parameters';

/** Participant: enrol, get, update, list, erase, and the private status link. */

const show = (operation: string[], extra: Record<string, unknown[]> = {}) => ({ show: { resource: ['participant'], operation, ...extra } });

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
			{
				name: 'Get by Private Link',
				value: 'getByToken',
				action: 'Get a participant by their private link',
				description: 'What Get answers, for the holder of a private status link; a forged, changed or expired link is refused (code invalid_link)',
			},
			{
				name: 'Get Private Link',
				value: 'privateLink',
				action: 'Get a private link for a participant',
				description: 'A signed, expiring link to the participant\'s own status page, to email to them; names nobody else',
			},
			{ name: 'List', value: 'list', action: 'List participants', description: 'Participants page by page' },
			{ name: 'Update', value: 'update', action: 'Update a participant', description: 'Change email, external ID, name, phone or metadata' },
		],
		default: 'enrol',
	},
	{
		displayName: 'Record Referral From Code',
		name: 'recordReferral',
		type: 'boolean',
		default: true,
		description: 'Whether to also record the referral (with its fraud checks) when the input carries a referral code or referrer ID',
		displayOptions: show(['enrol']),
	},
	{
		displayName: 'Owe Welcome Messages',
		name: 'oweWelcome',
		type: 'boolean',
		default: false,
		description:
			'Whether to record, in the same ledger transaction as the enrolment and only for a participant it creates, the welcome email (and a welcome text when a phone number and SMS consent came) owed to them (topic welcome). A Templated Message node set to Send Owed Messages delivers them from the ledger, so a crash neither loses nor repeats one and a repeated sign-up sends nothing again; messageKeys lists their keys.',
		displayOptions: show(['enrol']),
	},
	{
		displayName: 'SMS Consent Field',
		name: 'smsConsentField',
		type: 'string',
		default: 'consent.sms',
		hint: 'The input field that is true (or "true", "yes") when the person agreed to marketing texts; without it no welcome text is owed',
		displayOptions: show(['enrol'], { oweWelcome: [true] }),
	},
	...signUpCallerProperties(['enrol']).map((property) => ({ ...property, displayOptions: { show: { ...show(['enrol']).show, ...property.displayOptions?.show } } })),
	{ ...signUpFieldsProperty(['enrol']), displayOptions: show(['enrol']) },
	...participantLookupProperties(show(['get', 'update', 'erase', 'privateLink'])),
	statusPageUrlProperty(show(['privateLink'])),
	{
		displayName: 'Link Valid For (Days)',
		name: 'linkValidDays',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: 3660 },
		default: DEFAULT_PARTICIPANT_LINK_DAYS,
		description: 'After this the link answers "expired"; the participant asks for a new one with their email',
		displayOptions: show(['privateLink']),
	},
	{
		displayName: 'If Not Enrolled',
		name: 'ifNotEnrolled',
		type: 'options',
		options: [
			{ name: 'Fail the Item', value: 'error', description: 'An error with code unknown_participant' },
			{ name: 'Output the Item Without a Link', value: 'noLink', description: 'Outputs privateLink: null, so a public webhook can answer everyone alike' },
		],
		default: 'error',
		displayOptions: show(['privateLink']),
	},
	{
		displayName: 'Private Link Field',
		name: 'linkField',
		type: 'string',
		default: 'query.token',
		required: true,
		hint: 'The name of the input field holding the token of the private link, not the token itself (a Webhook node puts ?token=… into query.token)',
		displayOptions: show(['getByToken']),
	},
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
	if (operation === 'privateLink' || operation === 'getByToken') return await executeLink(this, operation, serviceFor);
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

/** Get Private Link adds `privateLink` to the item; Get by Private Link answers what Get answers. */
async function executeLink(ctx: IExecuteFunctions, operation: 'privateLink' | 'getByToken', serviceFor: (itemIndex: number) => Promise<ReferralService>): Promise<INodeExecutionData[]> {
	const secrets = linkSecretsReader(ctx);
	if (operation === 'getByToken') {
		const tokenFieldFor = parameterReader<string>(ctx, 'linkField', 'query.token');
		return await runPerItem(
			ctx,
			async (item, itemIndex) => (await (await serviceFor(itemIndex)).getParticipantByLink(readField(item.json, tokenFieldFor(itemIndex)), { secrets: await secrets() })) as never,
			{ ...fieldLabels, token: 'Private Link Field', linkSecret: 'Credential to connect with' },
		);
	}
	const lookupFor = participantLookupReader(ctx);
	const baseUrlFor = parameterReader<string>(ctx, 'linkBaseUrl', '');
	const daysFor = parameterReader<number>(ctx, 'linkValidDays', DEFAULT_PARTICIPANT_LINK_DAYS);
	const ifNotEnrolledFor = parameterReader<string>(ctx, 'ifNotEnrolled', 'error');
	return await runPerItem(
		ctx,
		async (item, itemIndex) => {
			const service = await serviceFor(itemIndex);
			const ifNotEnrolled = ifNotEnrolledFor(itemIndex) === 'noLink' ? 'null' : 'error';
			const link = await service.privateLink(lookupFor(item.json, itemIndex), { baseUrl: baseUrlFor(itemIndex), validDays: daysFor(itemIndex), secrets: await secrets(), ifNotEnrolled });
			return { ...item.json, privateLink: link } as never;
		},
		{ ...fieldLabels, baseUrl: 'Status Page URL', validDays: 'Link Valid For (Days)', linkSecret: 'Credential to connect with' },
	);
}
