import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import type { CodeFormatOptions } from '../../../../engine/codes';
import { FRAUD_CHECKS } from '../../../../engine/referrals';
import { saveReferralProgram } from '../../../../engine/referrals';
import { codeFormatLabels, codeFormatProperty } from '../../../ReferralCode/actions/codeFormat';
import { parameterReader } from '../../../shared/parameters';
import { locatorText } from '../../../shared/program';
import { runPerItem } from '../../../shared/runner';
import { fieldLabels, serviceReader } from '../common';

const CHECK_NAMES: Record<string, string> = {
	self_referral: 'Self-Referral',
	duplicate_referee: 'Duplicate Referee',
	disposable_email: 'Disposable Email',
	same_ip: 'Same IP',
	same_device: 'Same Device',
	velocity: 'Velocity',
	ring: 'Referral Ring',
};

const properties: INodeProperties[] = [
	{
		displayName: 'Share Link',
		name: 'share',
		type: 'collection',
		placeholder: 'Add Share Option',
		default: {},
		options: [
			{
				displayName: 'Base URL',
				name: 'baseUrl',
				type: 'string',
				default: '',
				placeholder: 'https://example.com/join',
				description: 'Landing page of the share link; without it participants get no share URL',
			},
			{
				displayName: 'Code Parameter',
				name: 'codeParameter',
				type: 'string',
				default: 'ref',
				description: 'Query parameter carrying the code',
			},
			{ displayName: 'UTM Campaign', name: 'utmCampaign', type: 'string', default: '' },
			{ displayName: 'UTM Medium', name: 'utmMedium', type: 'string', default: 'referral' },
			{ displayName: 'UTM Source', name: 'utmSource', type: 'string', default: 'referral-program' },
		],
	},
	{
		displayName: 'Attribution Window (Days)',
		name: 'attributionWindowDays',
		type: 'number',
		typeOptions: { minValue: 0.01 },
		default: 30,
		description:
			'How long after a referral touch a sign-up is still credited, and a pending referral keeps its referee',
	},
	{
		displayName: 'Attribution Model',
		name: 'attributionModel',
		type: 'options',
		options: [
			{
				name: 'First Touch',
				value: 'first_touch',
				description: 'The earlier referrer keeps a referee who arrives twice',
			},
			{
				name: 'Last Touch',
				value: 'last_touch',
				description: 'The later referrer would take a pending referee over',
			},
		],
		default: 'first_touch',
	},
	{
		displayName: 'Fraud Policy',
		name: 'fraudPolicy',
		type: 'collection',
		placeholder: 'Change Fraud Setting',
		default: {},
		description:
			'Each check adds its weight to a 0–100 risk score; the thresholds decide allow, flag for review or block',
		options: [
			{
				displayName: 'Allowed Domains',
				name: 'allowDomains',
				type: 'string',
				default: '',
				description: 'Comma-separated domains never treated as disposable',
			},
			{ displayName: 'Block at Risk Score', name: 'blockThreshold', type: 'number', default: 80 },
			{
				displayName: 'Disabled Checks',
				name: 'disabledChecks',
				type: 'multiOptions',
				options: FRAUD_CHECKS.map((c) => ({ name: CHECK_NAMES[c], value: c })),
				default: [],
			},
			{
				displayName: 'Extra Disposable Domains',
				name: 'extraDomains',
				type: 'string',
				default: '',
				description: 'Comma-separated throw-away email domains to add to the built-in list',
			},
			{ displayName: 'Flag at Risk Score', name: 'flagThreshold', type: 'number', default: 30 },
			{ displayName: 'Max Referrals per Day', name: 'velocityPerDay', type: 'number', default: 50 },
			{
				displayName: 'Max Referrals per Hour',
				name: 'velocityPerHour',
				type: 'number',
				default: 10,
			},
			{
				displayName: 'Ring Search Depth',
				name: 'ringMaxDepth',
				type: 'number',
				default: 6,
				description: 'Longest referral chain searched for a ring',
			},
			{
				displayName: 'Same IP Sign-Ups Allowed',
				name: 'sameIpAllowed',
				type: 'number',
				default: 0,
				description: 'Other sign-ups from one IP tolerated within the window (offices share IPs)',
			},
			{
				displayName: 'Same IP Window (Hours)',
				name: 'sameIpWindowHours',
				type: 'number',
				default: 24,
			},
			{
				displayName: 'Strip +Tags for All Domains',
				name: 'stripTagsForAllDomains',
				type: 'boolean',
				default: false,
				description: 'Whether to treat name+tag@any-domain as name@domain when comparing emails',
			},
		],
	},
	{
		displayName: 'Qualification',
		name: 'qualification',
		type: 'collection',
		placeholder: 'Add Rule',
		default: {},
		options: [
			{ displayName: 'Minimum Order Amount', name: 'minOrderAmount', type: 'number', default: 0 },
			{
				displayName: 'Max Order Amount (Minor Units)',
				name: 'maxOrderAmountMinor',
				type: 'number',
				default: 1000000000,
				typeOptions: { minValue: 1, numberPrecision: 0 },
				description:
					"Larger orders are refused, in the currency's smallest unit (cents): 1,000,000,000 is 10,000,000.00 EUR or 1,000,000,000 JPY",
			},
			{
				displayName: 'Qualify Within (Days)',
				name: 'qualifyWithinDays',
				type: 'number',
				default: 0,
				description:
					'The order must come from sign-up to this many days after it (an order dated before the sign-up does not qualify); 0 means no limit',
			},
		],
	},
	{
		displayName: 'Refund Policy',
		name: 'refundPolicy',
		type: 'options',
		options: [
			{ name: 'Any Refund Reverses', value: 'any_refund' },
			{ name: 'Only a Full Refund Reverses', value: 'full_refund_only' },
		],
		default: 'any_refund',
	},
	{
		displayName: 'SMS Countries',
		name: 'smsCountries',
		type: 'string',
		default: '',
		placeholder: 'e.g. US, CA, GB',
		description:
			"The program's markets: two-letter country codes that guarded texts (Templated Message › Send SMS › Sign-up Abuse Guard) may go to. Empty allows any country; premium-rate, shared-cost and UAN numbers are refused either way.",
	},
	{
		displayName: 'Page Language',
		name: 'locale',
		type: 'options',
		options: [
			{ name: "Visitor's Browser Language", value: '' },
			{ name: 'English', value: 'en' },
			{ name: 'German', value: 'de' },
		],
		default: '',
		description:
			"The language of the participant page (Referral Portal): fixed, or each visitor's Accept-Language (English when the browser asks for neither)",
	},
	{
		displayName: 'Share Texts',
		name: 'shareTexts',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true },
		placeholder: 'Add Share Text',
		default: {},
		description:
			"The text the participant page's share buttons prefill, per language; {code}, {link} and {program} are filled in (the link is added when the text has no {link}). Without one, the page's built-in text.",
		options: [
			{
				displayName: 'Text',
				name: 'text',
				values: [
					{
						displayName: 'Language',
						name: 'locale',
						type: 'string',
						default: 'en',
						placeholder: 'e.g. en, de',
					},
					{
						displayName: 'Text',
						name: 'text',
						type: 'string',
						typeOptions: { rows: 2 },
						default: '',
						placeholder: 'e.g. Get 10 % off your first order with my code {code}: {link}',
					},
				],
			},
		],
	},
	codeFormatProperty,
];

export const description = updateDisplayOptions(
	{ show: { resource: ['program'], operation: ['save'] } },
	properties,
);

interface FormatParameter extends Omit<CodeFormatOptions, 'extraBlockedWords'> {
	extraBlockedWords?: string;
}

interface FraudForm {
	allowDomains?: string;
	extraDomains?: string;
	disabledChecks?: string[];
	[key: string]: unknown;
}

const list = (text: string | undefined) =>
	(text ?? '')
		.split(',')
		.map((d) => d.trim())
		.filter((d) => d !== '');

function fraudPolicyFrom(form: FraudForm): IDataObject {
	const { allowDomains, extraDomains, disabledChecks, ...numbers } = form;
	const checks: IDataObject = {};
	for (const check of disabledChecks ?? []) checks[check] = { enabled: false };
	return {
		...numbers,
		checks,
		disposable: { extraDomains: list(extraDomains), allowDomains: list(allowDomains) },
	};
}

/** Code format, share link, attribution window and model, fraud policy, qualification and refund rules. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const { ledger } = await serviceReader(this);
	const programFor = parameterReader<unknown>(this, 'program', 'default');
	const read = <T>(name: string, fallback: T) => parameterReader<T>(this, name, fallback);
	const share = read<IDataObject>('share', {});
	const windowDays = read<number>('attributionWindowDays', 30);
	const model = read<string>('attributionModel', 'first_touch');
	const fraud = read<FraudForm>('fraudPolicy', {});
	const qualification = read<{
		minOrderAmount?: number;
		qualifyWithinDays?: number;
		maxOrderAmountMinor?: number;
	}>('qualification', {});
	const refund = read<string>('refundPolicy', 'any_refund');
	const smsCountries = read<string>('smsCountries', '');
	const locale = read<string>('locale', '');
	const shareTexts = read<{ text?: IDataObject[] }>('shareTexts', {});
	const format = read<FormatParameter>('codeFormat', {});
	return await runPerItem(
		this,
		async (_item, i) => {
			const q = qualification(i);
			const raw = format(i);
			const { program, created } = await saveReferralProgram(ledger, {
				programId: locatorText(programFor(i)),
				share: share(i),
				attribution: { windowDays: windowDays(i), model: model(i) },
				fraudPolicy: fraudPolicyFrom(fraud(i)),
				qualification: {
					...(q.minOrderAmount ? { minOrderAmount: q.minOrderAmount } : {}),
					...(q.qualifyWithinDays ? { qualifyWithinDays: q.qualifyWithinDays } : {}),
					...(q.maxOrderAmountMinor !== undefined
						? { maxOrderAmountMinor: q.maxOrderAmountMinor }
						: {}),
				},
				refundPolicy: refund(i),
				...(smsCountries(i) ? { smsCountries: smsCountries(i) } : {}),
				...(locale(i) ? { locale: locale(i) } : {}),
				...((shareTexts(i).text ?? []).length > 0 ? { shareTexts: shareTexts(i).text } : {}),
				codeFormat: {
					...raw,
					pattern: raw.pattern || undefined,
					extraBlockedWords: (raw.extraBlockedWords ?? '')
						.split(',')
						.filter((w) => w.trim() !== ''),
				},
			});
			return { program, created };
		},
		{
			...fieldLabels,
			...codeFormatLabels,
			programId: 'Program',
			locale: 'Page Language',
			shareTexts: 'Share Texts',
			'shareTexts.locale': 'Share Texts › Language',
		},
	);
}
