/* The credential "Referral Link Secret" (referralLinkSecretApi): read once per execution, and its
 * test. The secret never leaves here except into engine/shared/links. */
import type {
	ICredentialsDecrypted,
	ICredentialTestFunctions,
	IExecuteFunctions,
	INodeCredentialTestResult,
	INodeProperties,
} from 'n8n-workflow';
import { EngineError } from '../../engine/shared/errors';
import {
	linkSecrets,
	type LinkSecrets,
	MIN_LINK_SECRET_LENGTH,
	participantLink,
	verifyParticipantLink,
} from '../../engine/shared/links';

export const LINK_SECRET_CREDENTIAL = 'referralLinkSecretApi';

/** The *Status Page URL* a participant's private link opens (Referral › Private Link, Send Owed Messages). */
export function statusPageUrlProperty(
	displayOptions: INodeProperties['displayOptions'],
): INodeProperties {
	return {
		displayName: 'Status Page URL',
		name: 'linkBaseUrl',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'e.g. https://n8n.example.com/webhook/referral/participant',
		description:
			"The page the link opens (the participant status webhook); the participant's signed token is added as ?token=…. Type it in: never build it from request headers, which a caller controls.",
		displayOptions,
	};
}

/** The link secrets of the node's credential, loaded on first use; an error naming the credential when none is selected. */
export function linkSecretsReader(ctx: IExecuteFunctions): () => Promise<LinkSecrets> {
	let loaded: Promise<LinkSecrets> | undefined;
	return async () => {
		loaded ??= (async () => {
			if (!ctx.getNode().credentials?.[LINK_SECRET_CREDENTIAL]) {
				throw new EngineError(
					'missing_link_secret',
					'Select a Referral Link Secret credential: private and unsubscribe links are signed with it.',
					{ field: 'linkSecret' },
				);
			}
			const data = await ctx.getCredentials(LINK_SECRET_CREDENTIAL);
			const secrets = { secret: data.secret, previousSecret: data.previousSecret };
			linkSecrets(secrets);
			return secrets;
		})();
		return await loaded;
	};
}

/** The credential test: the secret is long enough, trimmed, and signs a link that verifies. */
export async function linkSecretTest(
	this: ICredentialTestFunctions,
	credential: ICredentialsDecrypted,
): Promise<INodeCredentialTestResult> {
	const { secret, previousSecret } = credential.data ?? {};
	for (const [label, value] of [
		['Secret', secret],
		['Previous Secret', previousSecret],
	] as const) {
		if (label === 'Previous Secret' && (value === undefined || value === '')) continue;
		if (typeof value !== 'string' || value === '')
			return { status: 'Error', message: `${label} is empty` };
		if (value !== value.trim())
			return {
				status: 'Error',
				message: `${label} starts or ends with a space or line break (a copy-paste slip); remove it`,
			};
		if (value.length < MIN_LINK_SECRET_LENGTH)
			return {
				status: 'Error',
				message: `${label} is shorter than ${MIN_LINK_SECRET_LENGTH} characters; use e.g. openssl rand -hex 32`,
			};
	}
	try {
		const secrets = { secret, previousSecret };
		const link = participantLink({
			baseUrl: 'https://example.com/status',
			programId: 'test',
			participantId: 1,
			secrets,
		});
		verifyParticipantLink(link.token, { programId: 'test', secrets });
	} catch (error) {
		return { status: 'Error', message: (error as Error).message };
	}
	return { status: 'OK', message: 'The secret signs and verifies a sample link' };
}
