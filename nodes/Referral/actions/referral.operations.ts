import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { EngineError } from '../../../engine/shared/errors';
import type { NegativeBalancePolicy } from '../../../engine/rewards';
import type { RefundedAmountIs } from '../../../engine/referrals/refund';
import { parameterReader, readField } from '../../shared/parameters';
import { runPerItem } from '../../shared/runner';
import { fieldLabels, fieldOption, fieldsReader, participantLookupProperties, participantLookupReader, serviceReader, toNumber, toText } from './common';
import { executeSignUp, signUpCallerProperties, signUpFieldsProperty } from './signUp';

/** Referral: record, qualify, approve, reject, flag, reverse, get, list. */

const show = (operation: string[]) => ({ show: { resource: ['referral'], operation } });
const BY_ID = ['approve', 'reject', 'flag', 'get'];

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['referral'] } },
		options: [
			{ name: 'Approve', value: 'approve', action: 'Approve a flagged referral', description: 'A reviewer clears a flagged referral: back to pending, or qualified when its order arrived during review' },
			{ name: 'Flag for Review', value: 'flag', action: 'Flag a referral for review', description: 'Hold a pending referral for a reviewer' },
			{ name: 'Get', value: 'get', action: 'Get a referral', description: 'A referral with its fraud checks and status history' },
			{ name: 'List', value: 'list', action: 'List referrals', description: 'Referrals by status, referrer, referee and time' },
			{ name: 'Qualify', value: 'qualify', action: 'Qualify a referral on a conversion', description: 'The referee\'s order qualifies the referral, once per order ID' },
			{ name: 'Record', value: 'record', action: 'Record a referred sign up', description: 'Enrol the referee and record the referral by code or referrer, with fraud checks' },
			{ name: 'Reject', value: 'reject', action: 'Reject a referral', description: 'Reject a flagged or pending referral' },
			{
				name: 'Reverse (Refund)',
				value: 'reverse',
				action: 'Reverse a referral and its rewards on refund',
				description: 'A refund or cancellation: reverses the referral and its rewards together as the refund policy says, in one step; a refund of 0 changes nothing',
			},
		],
		default: 'record',
	},
	...signUpCallerProperties(['record']).map((property) => ({ ...property, displayOptions: { show: { ...show(['record']).show, ...property.displayOptions?.show } } })),
	{ ...signUpFieldsProperty(['record']), displayOptions: show(['record']) },
	...participantLookupProperties(show(['qualify'])),
	{
		displayName: 'Conversion Fields',
		name: 'conversionFields',
		type: 'collection',
		placeholder: 'Change Field Name',
		default: {},
		displayOptions: show(['qualify']),
		options: [
			fieldOption('Amount Field', 'amount', 'amount'),
			fieldOption('Currency Field', 'currency', 'currency', 'Name of the field holding the three-letter currency code'),
			fieldOption('Order ID Field', 'orderId', 'orderId'),
			fieldOption('Ordered At Field', 'occurredAt', 'occurredAt', 'Name of the field holding the order time; now when absent'),
		],
	},
	{
		displayName: 'Referral ID Field',
		name: 'referralIdField',
		type: 'string',
		default: 'referralId',
		required: true,
		hint: 'The name of the input field holding the referral ID',
		displayOptions: show(BY_ID),
	},
	{
		displayName: 'Note',
		name: 'note',
		type: 'string',
		default: '',
		description: 'Why, for the referral\'s history (e.g. the reviewer\'s finding)',
		displayOptions: show(['approve', 'reject', 'flag', 'reverse']),
	},
	{
		displayName: 'Find Referral By',
		name: 'reverseBy',
		type: 'options',
		options: [
			{ name: 'Order ID', value: 'orderId' },
			{ name: 'Referral ID', value: 'referralId' },
		],
		default: 'orderId',
		displayOptions: show(['reverse']),
	},
	{
		displayName: 'Refund Fields',
		name: 'refundFields',
		type: 'collection',
		placeholder: 'Change Field Name',
		default: {},
		description: 'Without a refunded amount in the item, the order counts as fully refunded',
		displayOptions: show(['reverse']),
		options: [
			fieldOption('Cancelled Field', 'cancelled', 'cancelled', 'Name of a true/false field saying the order was cancelled'),
			fieldOption('Order Amount Field', 'orderAmount', 'orderAmount', 'Name of the field holding the order amount; read from the ledger when absent'),
			fieldOption('Order ID Field', 'orderId', 'orderId'),
			fieldOption('Referral ID Field', 'referralId', 'referralId'),
			fieldOption('Refund ID Field', 'refundId', 'refundId', 'Name of the field holding the provider\'s ID of this refund (with Refunded Amount Is › This Refund)'),
			fieldOption('Refunded Amount Field', 'refundedAmount', 'refundedAmount', 'Name of the field holding the refunded amount (see Refunded Amount Is)'),
			{
				displayName: 'Refunded Amount Is',
				name: 'refundedAmountIs',
				type: 'options',
				options: [
					{ name: 'Total So Far', value: 'total_so_far', description: 'Everything refunded on the order so far, this refund included (Stripe charge.refunded, WooCommerce)' },
					{
						name: 'This Refund (Summed per Refund ID)',
						value: 'this_refund',
						description: 'This refund\'s own amount (Shopify refunds/create, Paddle refund adjustments); the ledger adds up the order\'s refunds by refund ID, a repeated ID once',
					},
				],
				default: 'total_so_far',
			},
		],
	},
	{
		displayName: 'Negative Balance',
		name: 'negativeBalancePolicy',
		type: 'options',
		options: [
			{ name: 'Allow Negative Balance', value: 'allow_negative', description: 'Take back all points; the participant owes the rest' },
			{ name: 'Clamp at Zero', value: 'clamp_at_zero', description: 'Take back what is left; the rest is reported as shortfall' },
			{ name: 'Refuse', value: 'refuse', description: 'Stop with an error and change nothing (neither the referral nor its rewards)' },
		],
		default: 'allow_negative',
		description: 'When the refund reverses the referral, its points are clawed back: what to do when they exceed the balance (they were already spent)',
		displayOptions: show(['reverse']),
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
		displayName: 'Filters',
		name: 'filters',
		type: 'collection',
		placeholder: 'Add Filter',
		default: {},
		displayOptions: show(['list']),
		options: [
			{ displayName: 'After ID', name: 'afterId', type: 'number', default: 0, description: 'Only referrals with a larger ID (the last ID of the previous page)' },
			{ displayName: 'Referee ID', name: 'refereeId', type: 'number', default: 0 },
			{ displayName: 'Referrer ID', name: 'referrerId', type: 'number', default: 0 },
			{ displayName: 'Since', name: 'since', type: 'dateTime', default: '', description: 'Referred at or after this time' },
			{
				displayName: 'Status',
				name: 'status',
				type: 'options',
				options: [
					{ name: 'Flagged', value: 'flagged' },
					{ name: 'Pending', value: 'pending' },
					{ name: 'Qualified', value: 'qualified' },
					{ name: 'Rejected', value: 'rejected' },
					{ name: 'Reversed', value: 'reversed' },
				],
				default: 'pending',
			},
			{ displayName: 'Until', name: 'until', type: 'dateTime', default: '', description: 'Referred before this time' },
		],
	},
];

interface ListFilters {
	afterId?: number;
	refereeId?: number;
	referrerId?: number;
	since?: string;
	until?: string;
	status?: string;
}

export async function execute(this: IExecuteFunctions, operation: string): Promise<INodeExecutionData[]> {
	if (operation === 'record') return await executeSignUp(this, 'record');
	const { serviceFor } = await serviceReader(this);
	const noteFor = parameterReader<string>(this, 'note', '');
	if (operation === 'list') {
		const limitFor = parameterReader<number>(this, 'limit', 50);
		const filtersFor = parameterReader<ListFilters>(this, 'filters', {});
		return await runPerItem(
			this,
			async (_item, itemIndex) => {
				const f = filtersFor(itemIndex);
				const rows = await (await serviceFor(itemIndex)).listReferrals({
					limit: limitFor(itemIndex),
					status: f.status || undefined,
					referrerId: f.referrerId || undefined,
					refereeId: f.refereeId || undefined,
					afterId: f.afterId || undefined,
					since: f.since || undefined,
					until: f.until || undefined,
				});
				return rows.map((referral) => ({ referral })) as never;
			},
			fieldLabels,
		);
	}
	if (operation === 'qualify') {
		const lookupFor = participantLookupReader(this);
		const fieldsFor = fieldsReader(this, 'conversionFields', { orderId: 'orderId', amount: 'amount', currency: 'currency', occurredAt: 'occurredAt' });
		return await runPerItem(
			this,
			async (item, itemIndex) => {
				const f = fieldsFor(item.json, itemIndex);
				const outcome = await (await serviceFor(itemIndex)).qualify({
					...lookupFor(item.json, itemIndex),
					orderId: toText(f.orderId) as string,
					amount: toNumber(f.amount, 'amount') as number,
					currency: toText(f.currency) as string,
					at: f.occurredAt as string | number | undefined,
				});
				return outcome as never;
			},
			fieldLabels,
		);
	}
	if (operation === 'reverse') {
		const byFor = parameterReader<string>(this, 'reverseBy', 'orderId');
		const policyFor = parameterReader<NegativeBalancePolicy>(this, 'negativeBalancePolicy', 'allow_negative');
		const fieldsFor = fieldsReader(this, 'refundFields', { orderId: 'orderId', referralId: 'referralId', refundedAmount: 'refundedAmount', orderAmount: 'orderAmount', cancelled: 'cancelled', refundId: 'refundId' });
		const amountIsFor = parameterReader<IDataObject>(this, 'refundFields', {});
		return await runPerItem(
			this,
			async (item, itemIndex) => {
				const f = fieldsFor(item.json, itemIndex);
				const by = byFor(itemIndex);
				if (f[by as 'orderId'] === undefined) {
					throw new EngineError('required', `${by} is required`, {
						field: by,
						hint: `The input has no ${by === 'orderId' ? 'order ID' : 'referral ID'}: set Refund Fields › ${by === 'orderId' ? 'Order ID Field' : 'Referral ID Field'}`,
					});
				}
				const amountIs = (amountIsFor(itemIndex).refundedAmountIs as RefundedAmountIs | undefined) ?? 'total_so_far';
				if (amountIs === 'this_refund' && f.refundId === undefined) {
					throw new EngineError('required', 'refundId is required', {
						field: 'refundId',
						hint: 'Refunded Amount Is › This Refund needs the refund\'s ID: set Refund Fields › Refund ID Field',
					});
				}
				const outcome = await (await serviceFor(itemIndex)).reverse({
					...(amountIs === 'this_refund' ? { refundedAmountIs: amountIs, refundId: toText(f.refundId) } : {}),
					orderId: by === 'orderId' ? toText(f.orderId) : undefined,
					referralId: by === 'referralId' ? (toText(f.referralId) as string) : undefined,
					refundedAmount: toNumber(f.refundedAmount, 'refundedAmount'),
					orderAmount: toNumber(f.orderAmount, 'orderAmount'),
					cancelled: f.cancelled === undefined ? undefined : f.cancelled === true || f.cancelled === 'true',
					note: noteFor(itemIndex) || undefined,
					negativeBalancePolicy: policyFor(itemIndex),
				});
				return outcome as never;
			},
			fieldLabels,
		);
	}
	const idFieldFor = parameterReader<string>(this, 'referralIdField', 'referralId');
	return await runPerItem(
		this,
		async (item, itemIndex) => {
			const service = await serviceFor(itemIndex);
			const value = readField(item.json, idFieldFor(itemIndex));
			if (value === undefined || value === null || value === '') {
				throw new EngineError('required', `${idFieldFor(itemIndex)} is required`, {
					field: 'referralId',
					hint: `The input has no value in "${idFieldFor(itemIndex)}": set Referral ID Field to the field holding the referral ID`,
				});
			}
			const id = value as string | number;
			if (operation === 'get') return { referral: await service.getReferral(id) } as never;
			const note = noteFor(itemIndex) || undefined;
			if (operation === 'approve') return (await service.approve(id, note)) as never;
			if (operation === 'reject') return (await service.reject(id, note)) as never;
			return (await service.flag(id, note)) as never;
		},
		fieldLabels,
	);
}
