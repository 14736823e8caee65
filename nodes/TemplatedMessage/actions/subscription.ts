/* Unsubscribe and Resubscribe share the address they act on: the item field, read on the channel's terms. */
import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import type { Channel, SubscriptionInput } from '../../../engine/messaging';
import { parameterReader, readField } from '../../shared/parameters';
import type { FieldLabels } from '../../shared/runner';

export function subscriptionReader(ctx: IExecuteFunctions, channel: Channel): (item: INodeExecutionData, itemIndex: number) => SubscriptionInput {
	const field = channel === 'email' ? (ctx.getNodeParameter('emailField', 0, 'email') as string) : (ctx.getNodeParameter('phoneField', 0, 'phone') as string);
	const countryFor = parameterReader<string>(ctx, 'defaultCountry', '');
	return (item, itemIndex) => ({
		channel,
		address: readField(item.json, field),
		defaultCountry: channel === 'sms' ? countryFor(itemIndex) || undefined : undefined,
	});
}

export function subscriptionLabels(channel: Channel): FieldLabels {
	return { address: channel === 'email' ? 'Email Field' : 'Phone Field', defaultCountry: 'Default Country', channel: 'Resource' };
}
