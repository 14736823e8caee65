import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import {
	loadParticipantPage,
	renderNotFoundPage,
	renderParticipantPage,
} from '../../../../engine/pages';
import { EngineError } from '../../../../engine/shared/errors';
import { ledgerFor } from '../../../shared/ledger';
import { linkSecretsReader } from '../../../shared/linkSecret';
import { parameterReader } from '../../../shared/parameters';
import { programKeyReader } from '../../../shared/program';
import { runPerItem } from '../../../shared/runner';
import {
	inputProperties,
	inputReader,
	inputSourceOf,
	inputSourceProperty,
	type InputParameter,
} from '../../../shared/inputs';

const tokenInput: InputParameter = {
	field: {
		displayName: 'Private Link Field',
		name: 'linkField',
		type: 'string',
		default: 'query.token',
		required: true,
		hint: 'The name of the input field holding the token of the private link, not the token itself: query.token for …/page?token=…, params.token for a Webhook path such as p/:token',
	},
	value: {
		name: 'token',
		displayName: 'Private Link Token',
		holding: 'the token of the private link (its ?token=… part)',
	},
};

const languageInput: InputParameter = {
	field: {
		displayName: 'Accept-Language Field',
		name: 'acceptLanguageField',
		type: 'string',
		default: 'headers.accept-language',
		description:
			"The input field holding the browser's Accept-Language header: the page's language when the program has no Page Language",
	},
	value: {
		name: 'acceptLanguage',
		displayName: 'Accept-Language',
		holding: "the browser's Accept-Language header, e.g. de-DE,de;q=0.9,en;q=0.8",
		required: false,
	},
};

const properties: INodeProperties[] = [
	inputSourceProperty,
	...inputProperties(tokenInput),
	...inputProperties(languageInput),
	{
		displayName: 'Milestones (Qualified Referrals)',
		name: 'milestones',
		type: 'string',
		default: '',
		placeholder: 'e.g. 1, 3, 5, 10',
		description:
			'The qualified-referral counts of your milestone rewards, for the progress bar to the next one; empty shows no milestone bar (the next tier shows from the tier ladder the participant holds)',
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{
				displayName: 'Time Zone',
				name: 'timeZone',
				type: 'string',
				default: 'UTC',
				placeholder: 'e.g. Europe/Berlin',
				description: 'IANA time zone of the dates on the page',
			},
			{
				displayName: 'Referrals Listed',
				name: 'maxReferrals',
				type: 'number',
				typeOptions: { minValue: 0, maxValue: 1000 },
				default: 50,
				description: 'Most referrals listed, newest first; the page says how many more there are',
			},
		],
	},
];

export const description = updateDisplayOptions(
	{ show: { operation: ['participantPage'] } },
	properties,
);

function isTimeZone(timeZone: string): boolean {
	try {
		new Intl.DateTimeFormat('en', { timeZone });
		return true;
	} catch {
		return false;
	}
}

function milestonesOf(text: unknown): number[] {
	if (typeof text === 'number') return [text];
	if (typeof text !== 'string' || text.trim() === '') return [];
	return text.split(',').map((part) => {
		const n = Number(part.trim());
		if (part.trim() === '' || !Number.isInteger(n) || n <= 0)
			throw new EngineError(
				'invalid_number',
				`Milestones must be whole numbers of qualified referrals above 0, separated by commas (e.g. 1, 3, 5); got "${part.trim().slice(0, 20)}".`,
				{ field: 'milestones' },
			);
		return n;
	});
}

/** A page for a browser: should the node ever be attached to an AI Agent, the agent gets a refusal. */
export const toolUse = {
	refuse: 'it renders a whole HTML page for a browser, which an AI Agent cannot use',
} as const;

/**
 * The participant page for the private link in the item: `{ html, statusCode, headers, locale,
 * found }` for a Respond to Webhook node. A bad, expired or missing link answers the same 404 page
 * (found: false), naming nobody; the HTML, status code and headers are what the browser gets.
 */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const ledger = await ledgerFor(this);
	const secrets = linkSecretsReader(this);
	const source = inputSourceOf(this);
	const tokenFor = inputReader(this, tokenInput, source);
	const languageFor = inputReader(this, languageInput, source);
	const programFor = programKeyReader(this);
	const milestonesFor = parameterReader<unknown>(this, 'milestones', '');
	const optionsFor = parameterReader<{ timeZone?: string; maxReferrals?: number }>(
		this,
		'options',
		{},
	);
	return await runPerItem(
		this,
		async (item, itemIndex) => {
			const options = optionsFor(itemIndex);
			const timeZone = options.timeZone?.trim() || 'UTC';
			if (!isTimeZone(timeZone))
				throw new EngineError(
					'invalid_time_zone',
					`Time Zone must be an IANA zone such as Europe/Berlin or UTC; got "${timeZone.slice(0, 40)}".`,
					{ field: 'timeZone' },
				);
			const milestones = milestonesOf(milestonesFor(itemIndex));
			const acceptLanguage = languageFor(itemIndex, item.json);
			const token = tokenFor(itemIndex, item.json);
			const programId = programFor(itemIndex);
			const linkSecrets = await secrets();
			const { model, programLocale } = await loadParticipantPage(ledger, token, {
				programId,
				secrets: linkSecrets,
				milestones,
				maxReferrals: options.maxReferrals,
			});
			const page = model
				? renderParticipantPage(model, { acceptLanguage, timeZone })
				: renderNotFoundPage({ acceptLanguage, programLocale });
			return {
				html: page.html,
				statusCode: page.statusCode,
				headers: page.headers,
				locale: page.locale,
				found: model !== null,
			};
		},
		{
			program: 'Program',
			token: source === 'values' ? 'Private Link Token' : 'Private Link Field',
			linkSecret: 'Credential to connect with',
			milestones: 'Milestones (Qualified Referrals)',
			timeZone: 'Options › Time Zone',
		},
	);
}
