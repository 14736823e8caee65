import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import type { LedgerStore } from '../../../../engine/ledger';
import {
	loadDashboard,
	type DashboardData,
	type LoyaltyMix,
} from '../../../../engine/pages/dashboard';
import { EngineError } from '../../../../engine/shared/errors';
import { isRecord } from '../../../../engine/shared/guards';
import type { Period } from '../../../../engine/shared/periods';
import { parameterReader, readField } from '../../../shared/parameters';
import { locatorText } from '../../../shared/program';

/** Period and buckets: what the dashboard and the report charts count over. */
export const dashboardProperties: INodeProperties[] = [
	{
		displayName: 'Period',
		name: 'period',
		type: 'options',
		options: [
			{ name: 'Day', value: 'day' },
			{ name: 'Lifetime', value: 'lifetime' },
			{ name: 'Month', value: 'month' },
			{ name: 'Week', value: 'week' },
			{ name: 'Year', value: 'year' },
		],
		default: 'month',
		description:
			'Period of the headline figures, as Referral › Get Stats counts them (calendar period in UTC around now)',
	},
	{
		displayName: 'Chart Buckets',
		name: 'bucket',
		type: 'options',
		options: [
			{ name: 'Days', value: 'day' },
			{ name: 'Weeks', value: 'week' },
		],
		default: 'week',
		description: 'Unit of the over-time charts',
	},
	{
		displayName: 'Number of Buckets',
		name: 'buckets',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: 366 },
		default: 12,
		description: 'How many days or weeks back the over-time charts reach',
	},
	{
		displayName: 'Locale',
		name: 'locale',
		type: 'string',
		default: 'en',
		description: 'Language tag for numbers and money, e.g. en, de-DE',
	},
	{
		displayName: 'Loyalty Data',
		name: 'loyaltyFields',
		type: 'collection',
		placeholder: 'Add Field',
		default: {},
		description:
			'Fields of the input item holding Loyalty Insights results, to show the RFM segment mix and the loyalty index distribution',
		options: [
			{
				displayName: 'Loyalty Index Field',
				name: 'loyaltyIndex',
				type: 'string',
				default: '',
				placeholder: 'e.g. loyaltyIndexes',
				description: 'A list of loyalty index values (0–100), one per customer',
			},
			{
				displayName: 'Segments Field',
				name: 'segments',
				type: 'string',
				default: '',
				placeholder: 'e.g. segments',
				description: 'An object of RFM segment → number of customers',
			},
		],
	},
];

export const linkProperties: INodeProperties[] = [
	{
		displayName: 'Dashboard URL',
		name: 'dashboardUrl',
		type: 'string',
		default: '/webhook/referral-dashboard',
		description: 'Where the dashboard page is served, for the navigation between the pages',
	},
	{
		displayName: 'Review Queue URL',
		name: 'reviewUrl',
		type: 'string',
		default: '/webhook/referral-dashboard/review',
		description: 'Where the review queue page is served; decisions redirect back here',
	},
];

export function readProgram(ctx: IExecuteFunctions, itemIndex: number): string {
	return locatorText(parameterReader<unknown>(ctx, 'program', 'default')(itemIndex));
}

export function readLinks(ctx: IExecuteFunctions, itemIndex: number) {
	return {
		dashboardUrl: parameterReader<string>(ctx, 'dashboardUrl', '')(itemIndex) || undefined,
		reviewUrl: parameterReader<string>(ctx, 'reviewUrl', '')(itemIndex) || undefined,
	};
}

function loyaltyOf(json: IDataObject, fields: IDataObject): LoyaltyMix | undefined {
	const out: LoyaltyMix = {};
	if (typeof fields.segments === 'string' && fields.segments !== '') {
		const value = readField(json, fields.segments);
		// An object of segment → customers, or Loyalty Insights' RFM summary list ({segment, customers}).
		const entries: Array<[string, unknown]> = Array.isArray(value)
			? value.map((row) => (isRecord(row) ? [String(row.segment), row.customers] : ['', undefined]))
			: isRecord(value)
				? Object.entries(value)
				: [];
		if (!Array.isArray(value) && !isRecord(value))
			throw new EngineError(
				'invalid_input',
				`Segments Field "${fields.segments}" must hold an object of segment → customers or the RFM summary's segments list.`,
				{ field: 'segments' },
			);
		out.segments = {};
		for (const [k, v] of entries) {
			if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
				throw new EngineError(
					'invalid_number',
					`Segments Field "${fields.segments}": the customers of "${k}" must be a number of 0 or more.`,
					{ field: 'segments' },
				);
			out.segments[k] = v;
		}
	}
	if (typeof fields.loyaltyIndex === 'string' && fields.loyaltyIndex !== '') {
		const value = readField(json, fields.loyaltyIndex);
		if (!Array.isArray(value) || value.some((v) => typeof v !== 'number' || !Number.isFinite(v)))
			throw new EngineError(
				'invalid_input',
				`Loyalty Index Field "${fields.loyaltyIndex}" must hold a list of numbers.`,
				{ field: 'loyaltyIndex' },
			);
		out.loyaltyIndex = value as number[];
	}
	return out.segments || out.loyaltyIndex ? out : undefined;
}

/** The dashboard's data for one input item (now, the node's period and buckets). */
export async function dashboardFor(
	ctx: IExecuteFunctions,
	ledger: LedgerStore,
	json: IDataObject,
	itemIndex: number,
	now: number,
): Promise<{ data: DashboardData; locale: string }> {
	const programId = readProgram(ctx, itemIndex);
	await ledger.ensureProgram({ id: programId });
	const locale = parameterReader<string>(ctx, 'locale', 'en')(itemIndex) || 'en';
	const data = await loadDashboard(ledger, {
		programId,
		period: parameterReader<Period>(ctx, 'period', 'month')(itemIndex),
		at: now,
		bucket: parameterReader<'day' | 'week'>(ctx, 'bucket', 'week')(itemIndex),
		buckets: parameterReader<number>(ctx, 'buckets', 12)(itemIndex),
		loyalty: loyaltyOf(json, parameterReader<IDataObject>(ctx, 'loyaltyFields', {})(itemIndex)),
	});
	return { data, locale };
}

/** Lower-case header names of the Webhook node's item (`headers`). */
export function headersOf(json: IDataObject): Record<string, unknown> {
	const out: Record<string, unknown> = {};
	if (isRecord(json.headers))
		for (const [k, v] of Object.entries(json.headers)) out[k.toLowerCase()] = v;
	return out;
}

export const fieldLabels: Record<string, string> = {
	program: 'Program',
	buckets: 'Number of Buckets',
	segments: 'Loyalty Data › Segments Field',
	loyaltyIndex: 'Loyalty Data › Loyalty Index Field',
	referralId: 'referralId (form field)',
};
