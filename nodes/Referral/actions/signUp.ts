import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import { visitorIdFromHeaders, type SignUpInput } from '../../../engine/referrals';
import { clientFromHeaders, proxyHops } from '../../../engine/shared/clientIp';
import { parameterReader, readField } from '../../shared/parameters';
import { yesNo } from '../../shared/fields';
import { runPerItem } from '../../shared/runner';
import { fieldOption, labelsOf, serviceReader, toText } from './common';
import {
	inputCollectionProperties,
	inputCollectionReader,
	inputReader,
	inputSourceOf,
	type InputParameter,
} from '../../shared/inputs';

/**
 * Who produced the sign-up: a public web request (a landing-page form through a Webhook node) or
 * your own back-end. A public caller writes its whole body, so its referrer, time, IP and user agent
 * prove nothing; those come from the code, the clock and the request headers instead.
 */
export function signUpCallerProperties(): INodeProperties[] {
	return [
		{
			displayName: 'Sign-up Comes From',
			name: 'caller',
			type: 'options',
			noDataExpression: true,
			options: [
				{
					name: 'Public Web Request (Webhook)',
					value: 'public',
					description:
						'A landing-page form: the referrer comes only from the referral code, the time is now, the IP and user agent come from the request headers. Referrer ID, Signed Up At, IP and User Agent fields in the item are ignored.',
				},
				{
					name: 'Trusted System (Your Back-End)',
					value: 'trusted',
					description:
						'Items your own server-side systems produced: every Input Field is used, Referrer ID, Signed Up At, IP and User Agent included. Never for a public webhook body.',
				},
			],
			default: 'trusted',
		},
		{
			displayName: 'Request Headers Field',
			name: 'headersField',
			type: 'string',
			default: 'headers',
			hint: "The field holding the Webhook node's request headers. The IP is the X-Forwarded-For entry your N8N_PROXY_HOPS proxies added; with no proxy there is no IP.",
			displayOptions: { show: { caller: ['public'] } },
		},
	];
}

/** Where the sign-up's values are in the input item (the defaults match the sample sign-up webhook), or the values themselves. */
export function signUpFieldsProperty(): INodeProperties[] {
	return inputCollectionProperties({
		name: 'inputValues',
		displayName: 'Input Values',
		description:
			'The sign-up itself, e.g. from expressions or an AI Agent: at least an email or external ID. Leave a value out and it is not used.',
		field: signUpFields(),
	});
}

function signUpFields(): INodeProperties {
	return {
		displayName: 'Input Fields',
		name: 'inputFields',
		type: 'collection',
		placeholder: 'Change Field Name',
		default: {},
		description:
			'Names of the input fields holding the sign-up. Leave a field out of the input and it is simply not used.',
		options: [
			fieldOption(
				'Device ID Field',
				'device',
				'deviceId',
				'Name of the field holding an explicit device ID your page sets (a fingerprint or a first-party cookie ID); the only signal the same-device check compares. Stored only as a keyed hash.',
			),
			fieldOption('Email Field', 'email', 'email'),
			fieldOption(
				'Existing Customer Field',
				'existingCustomer',
				'existingCustomer',
				'Name of a true/false field saying the person was already a customer (the duplicate-referee check then fires)',
			),
			fieldOption('External ID Field', 'externalId', 'externalId'),
			fieldOption(
				'IP Field',
				'ip',
				'ip',
				'Name of the field holding the IP address; stored only as a keyed hash',
			),
			fieldOption('Name Field', 'name', 'name'),
			fieldOption('Phone Field', 'phone', 'phone'),
			fieldOption('Referral Code Field', 'referralCode', 'referralCode'),
			fieldOption(
				'Referrer ID Field',
				'referrerId',
				'referrerId',
				"Name of the field holding the referrer's participant ID, for referrals without a code",
			),
			fieldOption(
				'Signed Up At Field',
				'signedUpAt',
				'signedUpAt',
				'Name of the field holding the sign-up time; now when absent',
			),
			fieldOption(
				'Source Field',
				'source',
				'source',
				'Name of the field saying where the referral came from (e.g. email, whatsapp)',
			),
			fieldOption(
				'User Agent Field',
				'userAgent',
				'userAgent',
				'Name of the field holding the browser user agent: a weak signal (many strangers share a browser version) that never flags a referral alone. Stored only as a keyed hash.',
			),
			fieldOption(
				'Visitor ID Field',
				'visitorId',
				'visitorId',
				"Name of the field holding the visitor ID of a tracked referral link (the rm_vid cookie Referral Link › Track Click set): without a code, the sign-up is credited to that visitor's recorded click (first- or last-touch within the attribution window). For a public web request it is read from the Cookie header instead.",
			),
		],
	};
}

const DEFAULTS = {
	email: 'email',
	externalId: 'externalId',
	name: 'name',
	phone: 'phone',
	referralCode: 'referralCode',
	referrerId: 'referrerId',
	ip: 'ip',
	userAgent: 'userAgent',
	device: 'deviceId',
	source: 'source',
	signedUpAt: 'signedUpAt',
	existingCustomer: 'existingCustomer',
	visitorId: 'visitorId',
};

/** Consent from a trusted system follows the one yes/no rule; a public body must send a JSON true (its words prove nothing). */
function consentOf(value: unknown, trusted: boolean): boolean {
	return trusted ? yesNo(value) : value === true;
}

/** Enrol (optionally recording the referral) or record: one loop, the service does the rest. */
export async function executeSignUp(
	ctx: IExecuteFunctions,
	mode: 'enrol' | 'record',
): Promise<INodeExecutionData[]> {
	const oweWelcome = mode === 'enrol' && ctx.getNodeParameter('oweWelcome', 0, false) === true;
	const { ledger, serviceFor } = await serviceReader(ctx, { oweWelcome });
	const source = inputSourceOf(ctx);
	const consentFieldFor = parameterReader<string>(ctx, 'smsConsentField', 'consent.sms');
	const consentValueFor = inputReader(ctx, smsConsentInput, 'values');
	const consentFor = (itemIndex: number, json: IDataObject): unknown =>
		source === 'values'
			? consentValueFor(itemIndex, json)
			: readField(json, consentFieldFor(itemIndex) || 'consent.sms');
	const fieldsFor = inputCollectionReader(
		ctx,
		{ field: 'inputFields', value: 'inputValues' },
		DEFAULTS,
		source,
	);
	const recordFor = parameterReader<boolean>(ctx, 'recordReferral', true);
	const callerFor = parameterReader<string>(ctx, 'caller', 'trusted');
	const headersFieldFor = parameterReader<string>(ctx, 'headersField', 'headers');
	const hops = proxyHops();
	return await runPerItem(
		ctx,
		async (item, itemIndex) => {
			const service = await serviceFor(itemIndex);
			const f = fieldsFor(item.json, itemIndex);
			const withReferral = mode === 'record' || recordFor(itemIndex);
			if (callerFor(itemIndex) === 'public') {
				// Public input is data, not identity: who referred whom, when, and from where are not the caller's to say.
				const client = clientFromHeaders(readField(item.json, headersFieldFor(itemIndex)), hops);
				delete f.referrerId;
				delete f.signedUpAt;
				f.ip = client.ip;
				f.userAgent = client.userAgent;
				// The visitor id only from the cookie our link set (HttpOnly), never from the body.
				f.visitorId = visitorIdFromHeaders(readField(item.json, headersFieldFor(itemIndex)));
			}
			const input: SignUpInput = {
				email: toText(f.email),
				externalId: toText(f.externalId),
				name: toText(f.name),
				phone: toText(f.phone),
				referralCode: withReferral ? toText(f.referralCode) : undefined,
				referrerId: withReferral ? toText(f.referrerId) : undefined,
				ip: toText(f.ip),
				userAgent: toText(f.userAgent),
				device: toText(f.device),
				source: toText(f.source),
				at: f.signedUpAt as string | number | undefined,
				existingCustomer: yesNo(f.existingCustomer),
				visitorId: withReferral ? toText(f.visitorId) : undefined,
				...(oweWelcome
					? {
							smsConsent: consentOf(
								consentFor(itemIndex, item.json),
								callerFor(itemIndex) !== 'public',
							),
						}
					: {}),
			};
			return mode === 'record' ? await service.recordReferral(input) : await service.enrol(input);
		},
		labelsOf(source),
		{ batch: ledger },
	);
}

/** SMS Consent Field, or SMS Consent itself in Values mode (Enrol with Owe Welcome Messages). */
export const smsConsentInput: InputParameter = {
	field: {
		displayName: 'SMS Consent Field',
		name: 'smsConsentField',
		type: 'string',
		default: 'consent.sms',
		hint: 'The input field that is true (or "true", "yes") when the person agreed to marketing texts; without it no welcome text is owed',
		displayOptions: { show: { oweWelcome: [true] } },
	},
	value: {
		name: 'smsConsent',
		displayName: 'SMS Consent',
		holding: 'whether the person agreed to marketing texts (true or false)',
		description:
			'True (or "true", "yes") when the person agreed to marketing texts; otherwise no welcome text is owed',
	},
};
