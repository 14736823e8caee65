import type { ICredentialType, INodeProperties } from 'n8n-workflow';

/**
 * The secret that signs the private links people receive by email: a participant's own status page
 * (Referral › Participant › Get Private Link) and unsubscribe links (Templated Message). Only n8n
 * knows it; a link whose token it did not sign, or that was changed or has expired, opens nothing.
 * Tested by the Referral node (`testedBy: 'linkSecretTest'`).
 */
export class ReferralLinkSecretApi implements ICredentialType {
	name = 'referralLinkSecretApi';

	displayName = 'Referral Link Secret API';

	icon = { light: 'file:webhookSecret.svg', dark: 'file:webhookSecret.dark.svg' } as const;

	documentationUrl =
		'https://github.com/n8n-nodes-referral-marketing/n8n-nodes-referral-marketing/blob/main/docs/security.md';

	properties: INodeProperties[] = [
		{
			displayName:
				'A long random text only this n8n knows, e.g. the output of openssl rand -hex 32. Changing it makes every private and unsubscribe link sent so far stop working, unless you keep the old one as Previous Secret.',
			name: 'notice',
			type: 'notice',
			default: '',
		},
		{
			displayName: 'Secret',
			name: 'secret',
			type: 'string',
			typeOptions: { password: true },
			required: true,
			default: '',
		},
		{
			displayName: 'Previous Secret',
			name: 'previousSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description:
				'While you rotate the secret, links signed with the previous one still open; empty it once those links have expired',
		},
	];
}
