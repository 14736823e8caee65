import type {
	ICredentialDataDecryptedObject,
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { NodeApiError } from 'n8n-workflow';
import { clientFromHeaders, proxyHops } from '../../../../engine/shared/clientIp';
import {
	readSiteverifyAnswer,
	siteverifyRequest,
	type BotCheckProvider,
} from '../../../../engine/webhooks/botCheck';
import { parameterReader, readField } from '../../../shared/parameters';
import { runPerItemRouted } from '../../../shared/runner';

import { REJECTED, VERIFIED } from './verify.operation';

export const BOT_CHECK_CREDENTIAL = 'referralBotCheckApi';

const properties: INodeProperties[] = [
	{
		displayName:
			'Your form shows the Turnstile or hCaptcha widget; the page posts the token it gives with the sign-up. Failed checks come out of Rejected with error.field "botCheck": answer them 403 and enrol nothing.',
		name: 'botCheckNotice',
		type: 'notice',
		default: '',
	},
	{
		displayName: 'Widget Response Field',
		name: 'responseField',
		type: 'string',
		default: 'body.captchaToken',
		hint: "The field holding the widget's token. A form posted natively names it cf-turnstile-response (Turnstile) or h-captcha-response (hCaptcha).",
	},
	{
		displayName: 'Headers Field',
		name: 'headersField',
		type: 'string',
		default: 'headers',
		description:
			'Name of the field holding the request headers; the client IP (X-Forwarded-For as N8N_PROXY_HOPS trusts it) is sent to the provider as remoteip',
	},
	{
		displayName: 'Expected Hostname',
		name: 'expectedHostname',
		type: 'string',
		default: '',
		placeholder: 'e.g. www.example.com',
		description: "The site the widget must have run on; empty accepts any of your widget's domains",
	},
	{
		displayName: 'Expected Action',
		name: 'expectedAction',
		type: 'string',
		default: '',
		placeholder: 'e.g. signup',
		description: 'Turnstile: the action the widget was rendered with; empty accepts any',
	},
];

export const description = updateDisplayOptions({ show: { operation: ['botCheck'] } }, properties);

/** Verify Bot Check: asks Turnstile or hCaptcha whether the item's token is good; Verified or Rejected. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const tokenFieldFor = parameterReader<string>(this, 'responseField', 'body.captchaToken');
	const headersFieldFor = parameterReader<string>(this, 'headersField', 'headers');
	const hostnameFor = parameterReader<string>(this, 'expectedHostname', '');
	const actionFor = parameterReader<string>(this, 'expectedAction', '');
	const hops = proxyHops();
	let credential: Promise<ICredentialDataDecryptedObject> | undefined;
	return await runPerItemRouted(
		this,
		2,
		async (item, itemIndex) => {
			credential ??= this.getCredentials<ICredentialDataDecryptedObject>(BOT_CHECK_CREDENTIAL);
			const data = await credential;
			const provider: BotCheckProvider = data.provider === 'hcaptcha' ? 'hcaptcha' : 'turnstile';
			const { ip } = clientFromHeaders(readField(item.json, headersFieldFor(itemIndex)), hops);
			const reject = (result: { errorCodes: string[]; message?: string }) => ({
				output: REJECTED,
				json: {
					...item.json,
					error: {
						message: result.message ?? 'The bot check failed.',
						field: 'botCheck',
						code: result.errorCodes[0] ?? 'failed',
						errorCodes: result.errorCodes,
						provider,
					},
				} as IDataObject,
			});
			const request = siteverifyRequest({
				provider,
				token: readField(item.json, tokenFieldFor(itemIndex)),
				remoteIp: ip,
				siteKey: typeof data.site === 'string' ? data.site.trim() : undefined,
				url: typeof data.verifyUrl === 'string' ? data.verifyUrl.trim() : undefined,
			});
			if (!('form' in request)) return reject(request);
			let response: { statusCode: number; body: unknown };
			try {
				response = (await this.helpers.httpRequestWithAuthentication.call(
					this,
					BOT_CHECK_CREDENTIAL,
					{
						method: 'POST',
						url: request.url,
						headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
						body: request.form,
						json: true,
						returnFullResponse: true,
						ignoreHttpStatusErrors: true,
						timeout: 10_000,
					},
				)) as { statusCode: number; body: unknown };
			} catch (error) {
				throw new NodeApiError(
					this.getNode(),
					{ message: (error as Error).message },
					{
						itemIndex,
						message: `The ${provider === 'hcaptcha' ? 'hCaptcha' : 'Turnstile'} siteverify endpoint could not be reached`,
						description:
							'No verdict: the sign-up is neither verified nor rejected. Retry, or check the Siteverify URL of the credential.',
					},
				);
			}
			let body = response.body;
			if (typeof body === 'string') {
				try {
					body = JSON.parse(body);
				} catch {
					/* not JSON: no verdict */
				}
			}
			const result = readSiteverifyAnswer(response.statusCode, body, {
				hostname: hostnameFor(itemIndex) || undefined,
				action: actionFor(itemIndex) || undefined,
			});
			if (
				result.errorCodes.includes('invalid-input-secret') ||
				result.errorCodes.includes('missing-input-secret') ||
				result.errorCodes.includes('provider-error')
			) {
				// Our configuration or the provider is at fault, not the visitor: an error, not a rejection.
				throw new NodeApiError(
					this.getNode(),
					{ message: result.message ?? 'bot check failed' },
					{
						itemIndex,
						message: result.message ?? 'The bot check could not be made',
						description: 'Check the Secret Key of the Bot Check credential.',
					},
				);
			}
			if (!result.success) return reject(result);
			return {
				output: VERIFIED,
				json: {
					...item.json,
					botCheck: {
						verified: true,
						provider,
						hostname: result.hostname ?? null,
						challengeTs: result.challengeTs ?? null,
						action: result.action ?? null,
					},
				},
			};
		},
		{ errorOutput: REJECTED },
	);
}
