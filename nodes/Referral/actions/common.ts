import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { EngineError } from '../../../engine/shared/errors';
import type { LedgerStore } from '../../../engine/ledger';
import { ReferralService, type ServiceOptions } from '../../../engine/refunds';
import { ledgerFor } from '../../shared/ledger';
import {
	perProgram,
	programKeyReader,
	programProperty as sharedProgramProperty,
} from '../../shared/program';
import { parameterReader, readField } from '../../shared/parameters';
import { labelsFor, type InputSource } from '../../shared/inputs';

/** Program key, shared by every operation. */
export const programProperty = sharedProgramProperty(
	'Key of the referral program; created with default settings on first use (use Program › Create or Update to set its rules)',
	// Ledger housekeeping covers every program on the ledger.
	{ hide: { resource: ['ledger'] } },
);

/** The service for an item's program: loaded once per execution and program key. */
export async function serviceReader(
	ctx: IExecuteFunctions,
	options: ServiceOptions = {},
): Promise<{ ledger: LedgerStore; serviceFor: (itemIndex: number) => Promise<ReferralService> }> {
	const ledger = await ledgerFor(ctx);
	const keyFor = programKeyReader(ctx);
	const serviceOf = perProgram(async (id) => {
		await ledger.ensureProgram({ id });
		return await ReferralService.open(ledger, id, options);
	});
	return { ledger, serviceFor: async (itemIndex) => await serviceOf(keyFor(itemIndex)) };
}

/** Reads a field-name collection once and returns a function giving each item's values by role. */
export function fieldsReader<K extends string>(
	ctx: IExecuteFunctions,
	parameter: string,
	defaults: Record<K, string>,
): (json: IDataObject, itemIndex: number) => Partial<Record<K, unknown>> {
	const read = parameterReader<Partial<Record<K, string>>>(ctx, parameter, {});
	return (json, itemIndex) => {
		const names = { ...defaults, ...read(itemIndex) };
		const out: Partial<Record<K, unknown>> = {};
		for (const role of Object.keys(defaults) as K[]) {
			const name = names[role];
			if (typeof name !== 'string' || name === '') continue;
			const value = readField(json, name);
			if (value !== undefined && value !== null && value !== '') out[role] = value;
		}
		return out;
	};
}

/** A field-name option inside a collection. */
export function fieldOption(
	displayName: string,
	name: string,
	fallback: string,
	description?: string,
): INodeProperties {
	return {
		displayName,
		name,
		type: 'string',
		default: fallback,
		description:
			description ??
			`Name of the input field holding the ${displayName.replace(/ Field$/, '').toLowerCase()}`,
	};
}

export { participantLookupProperties, participantLookupReader } from '../../shared/fields';

/** Field names the engine uses in errors → what the user sees in the node. */
export const fieldLabels: Record<string, string> = {
	program: 'Program',
	email: 'Email Field',
	newEmail: 'Input Fields › New Email Field',
	externalId: 'External ID Field',
	name: 'Name Field',
	phone: 'Phone Field',
	referralCode: 'Referral Code Field',
	ip: 'IP Field',
	userAgent: 'User Agent Field',
	device: 'Device ID Field',
	visitorId: 'Visitor ID Field',
	signedUpAt: 'Signed Up At Field',
	referrerId: 'Referrer ID Field',
	lookupField: 'Lookup Field',
	participantId: 'Lookup Field',
	referralId: 'Referral ID Field',
	orderId: 'Order ID Field',
	amount: 'Amount Field',
	currency: 'Currency Field',
	occurredAt: 'Ordered At Field',
	refundedAmount: 'Refunded Amount Field',
	orderAmount: 'Order Amount Field',
	status: 'Referral ID Field',
	share: 'Share Link',
	baseUrl: 'Share Link › Base URL',
	attributionWindowDays: 'Attribution Window (Days)',
	attributionModel: 'Attribution Model',
	flagThreshold: 'Fraud Policy › Flag at Risk Score',
	blockThreshold: 'Fraud Policy › Block at Risk Score',
	velocityPerHour: 'Fraud Policy › Max Referrals per Hour',
	velocityPerDay: 'Fraud Policy › Max Referrals per Day',
	timeZone: 'Time Zone',
	limit: 'Limit',
};

/** The same names in Values mode: the Value parameters (`email` → `Email`). */
export const valueLabels: Record<string, string> = {
	email: 'Email',
	newEmail: 'New Values › New Email',
	externalId: 'External ID',
	name: 'Name',
	phone: 'Phone',
	referralCode: 'Referral Code',
	ip: 'IP',
	userAgent: 'User Agent',
	device: 'Device ID',
	visitorId: 'Visitor ID',
	signedUpAt: 'Signed Up At',
	referrerId: 'Referrer ID',
	lookupField: 'Email, External ID or Participant ID',
	lookupValue: 'Email, External ID or Participant ID',
	participantId: 'Participant ID',
	referralId: 'Referral ID',
	orderId: 'Order ID',
	amount: 'Amount',
	currency: 'Currency',
	occurredAt: 'Ordered At',
	refundedAmount: 'Refunded Amount',
	orderAmount: 'Order Amount',
	status: 'Referral ID',
};

/** Error labels for the operation's input source. */
export function labelsOf(source: InputSource): Record<string, string> {
	return labelsFor(source, fieldLabels, valueLabels);
}

export function toText(value: unknown): string | undefined {
	if (value === undefined || value === null) return undefined;
	return typeof value === 'string'
		? value
		: typeof value === 'number' || typeof value === 'boolean'
			? String(value)
			: undefined;
}

export function toNumber(value: unknown, field: string): number | undefined {
	if (value === undefined) return undefined;
	const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
	if (typeof n !== 'number' || !Number.isFinite(n))
		throw new EngineError(
			'invalid_number',
			`${field} must be a number (got ${typeof value === 'string' ? `"${value.slice(0, 40)}"` : typeof value}).`,
			{ field },
		);
	return n;
}
