import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
	NodeExecutionHint,
} from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { EngineError } from '../../../../engine/shared/errors';
import { clientFromHeaders, proxyHops } from '../../../../engine/shared/clientIp';
import type { ToolUse } from '../../../shared/tool';
import {
	inputProperties,
	inputReader,
	inputSourceOf,
	inputSourceProperty,
	type InputParameter,
} from '../../../shared/inputs';
import { parameterReader } from '../../../shared/parameters';
import { runPerItem } from '../../../shared/runner';
import { labelsOf, serviceReader } from '../common';

const codeInput: InputParameter = {
	field: {
		displayName: 'Code Field',
		name: 'codeField',
		type: 'string',
		default: 'params.code',
		required: true,
		hint: 'The input field holding the code from the link\'s path. A Webhook node with Path ":code" puts it into params.code.',
	},
	value: {
		name: 'code',
		displayName: 'Code',
		holding: 'the referral code from the link',
		required: true,
	},
};

const headersInput: InputParameter = {
	field: {
		displayName: 'Request Headers Field',
		name: 'headersField',
		type: 'string',
		default: 'headers',
		hint: "The Webhook node's request headers: user agent (bots and link previews are not counted), Referer, Cookie (the visitor ID is reused) and, behind your N8N_PROXY_HOPS proxies, X-Forwarded-For and X-Forwarded-Proto",
	},
	value: {
		name: 'headers',
		displayName: 'Request Headers',
		holding: 'the request headers (an object, or JSON text)',
	},
};

const queryInput: InputParameter = {
	field: {
		displayName: 'Query Field',
		name: 'queryField',
		type: 'string',
		default: 'query',
		hint: 'The query parameters of the link: utm_source, utm_medium, utm_campaign, utm_content and utm_term are recorded and passed on to the landing page',
	},
	value: {
		name: 'query',
		displayName: 'Query',
		holding: 'the query parameters (an object, or JSON text)',
	},
};

const methodInput: InputParameter = {
	field: {
		displayName: 'Method Field',
		name: 'methodField',
		type: 'string',
		default: 'method',
		hint: "The input field holding the HTTP method when it is not GET (the sample sets it to HEAD on the Webhook node's HEAD output); HEAD requests are never counted. Absent means GET.",
	},
	value: {
		name: 'method',
		displayName: 'Method',
		holding: 'the HTTP method (GET or HEAD); empty means GET',
	},
};

const properties: INodeProperties[] = [
	inputSourceProperty,
	...inputProperties(codeInput),
	...inputProperties(headersInput),
	...inputProperties(queryInput),
	...inputProperties(methodInput),
	{
		displayName: 'Options',
		name: 'clickOptions',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{
				displayName: 'Max Clicks per IP',
				name: 'maxPerIp',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: 20,
				description:
					'Clicks counted per client IP in the window; more are redirected but not counted (reason rate_limited). Needs the IP: N8N_PROXY_HOPS set for your reverse proxy.',
			},
			{
				displayName: 'Rate Window (Minutes)',
				name: 'windowMinutes',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: 60,
			},
			{
				displayName: 'Secure Cookie',
				name: 'secureCookie',
				type: 'options',
				options: [
					{
						name: 'Auto',
						value: 'auto',
						description:
							'Secure when the request came over HTTPS (X-Forwarded-Proto of your N8N_PROXY_HOPS proxies)',
					},
					{ name: 'Always', value: 'always' },
					{ name: 'Never', value: 'never', description: 'For local tests over plain HTTP' },
				],
				default: 'auto',
			},
		],
	},
];

export const description = updateDisplayOptions(
	{ show: { resource: ['referralLink'], operation: ['trackClick'] } },
	properties,
);

/** A public web request, not a task for an AI Agent. */
export const toolUse: ToolUse = {
	refuse:
		'Track Click answers a public web request (a visit of a referral link) with a redirect; it is not a tool for an agent',
};

function objectOf(value: unknown, field: string): Record<string, unknown> | undefined {
	if (value === undefined || value === null || value === '') return undefined;
	let parsed: unknown = value;
	if (typeof value === 'string') {
		try {
			parsed = JSON.parse(value) as unknown;
		} catch {
			parsed = undefined;
		}
	}
	if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
		throw new EngineError(
			'invalid_object',
			`${field} must be an object (or JSON text of one), such as a Webhook node's ${field}.`,
			{ field },
		);
	return parsed as Record<string, unknown>;
}

/** Records a referral link click (when it counts) and answers the redirect URL and the visitor cookie. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const { serviceFor } = await serviceReader(this);
	const source = inputSourceOf(this);
	const codeFor = inputReader(this, codeInput, source);
	const headersFor = inputReader(this, headersInput, source);
	const queryFor = inputReader(this, queryInput, source);
	const methodFor = inputReader(this, methodInput, source);
	const optionsFor = parameterReader<{
		maxPerIp?: number;
		windowMinutes?: number;
		secureCookie?: 'auto' | 'always' | 'never';
	}>(this, 'clickOptions', {});
	const hops = proxyHops();
	let withoutIp = 0;
	const output = await runPerItem(
		this,
		async (item, itemIndex) => {
			const headers = objectOf(headersFor(itemIndex, item.json), 'headers');
			const code = codeFor(itemIndex, item.json);
			if (typeof code !== 'string' && typeof code !== 'number')
				throw new EngineError(
					'required',
					'The referral code is missing: the link is /r/<code> and the code goes in its path.',
					{ field: 'code' },
				);
			const outcome = await (
				await serviceFor(itemIndex)
			).trackClick(
				{
					code: String(code),
					headers,
					query: objectOf(queryFor(itemIndex, item.json), 'query'),
					method: methodFor(itemIndex, item.json),
				},
				{ proxyHops: hops, ...optionsFor(itemIndex) },
			);
			if (outcome.counted && !clientFromHeaders(headers ?? {}, hops).ip) withoutIp++;
			return outcome;
		},
		{
			...labelsOf(source),
			code: source === 'values' ? 'Code' : 'Code Field',
			headers: source === 'values' ? 'Request Headers' : 'Request Headers Field',
			query: source === 'values' ? 'Query' : 'Query Field',
			maxPerIp: 'Options › Max Clicks per IP',
			windowMinutes: 'Options › Rate Window (Minutes)',
		},
	);
	if (withoutIp > 0) {
		const hint: NodeExecutionHint = {
			message: `${withoutIp} click(s) had no client IP, so the per-IP rate limit could not apply: behind a reverse proxy set N8N_PROXY_HOPS (see docs/security.md).`,
			location: 'outputPane',
		};
		this.addExecutionHints(hint);
	}
	return output;
}
