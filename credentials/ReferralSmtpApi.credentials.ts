import type { ICredentialType, INodeProperties } from 'n8n-workflow';

/**
 * An SMTP server for the Templated Message node (sent through nodemailer). SMTP is not HTTP, so the
 * node tests it (`testedBy: 'referralSmtpConnectionTest'`): it connects, says hello and logs in.
 */
export class ReferralSmtpApi implements ICredentialType {
	name = 'referralSmtpApi';

	displayName = 'Referral Marketing SMTP API';

	icon = { light: 'file:messageEmail.svg', dark: 'file:messageEmail.dark.svg' } as const;

	documentationUrl = 'https://github.com/n8n-nodes-referral-marketing/n8n-nodes-referral-marketing/blob/main/docs/nodes/templated-message.md';

	properties: INodeProperties[] = [
		{
			displayName: 'Host',
			name: 'host',
			type: 'string',
			default: '',
			placeholder: 'smtp.example.com',
			required: true,
		},
		{
			displayName: 'Port',
			name: 'port',
			type: 'number',
			default: 587,
			description: '587 for STARTTLS (the usual), 465 for TLS from the first byte, 25 for relays',
		},
		{
			displayName: 'SSL/TLS',
			name: 'secure',
			type: 'boolean',
			default: false,
			description: 'Whether to use TLS from the first byte (port 465). Off: STARTTLS is used when the server offers it.',
		},
		{
			displayName: 'Require STARTTLS',
			name: 'requireTLS',
			type: 'boolean',
			default: false,
			description: 'Whether to refuse to send unless the connection is upgraded with STARTTLS',
			displayOptions: { show: { secure: [false] } },
		},
		{
			displayName: 'User',
			name: 'user',
			type: 'string',
			default: '',
			description: 'Leave empty for a server that does not ask for a login',
		},
		{
			displayName: 'Password',
			name: 'password',
			type: 'string',
			typeOptions: { password: true },
			default: '',
		},
		{
			displayName: 'Ignore SSL Issues (Insecure)',
			name: 'ignoreSslIssues',
			type: 'boolean',
			default: false,
			description: 'Whether to accept a self-signed or expired server certificate',
		},
		{
			displayName: 'Client Host Name',
			name: 'clientHostname',
			type: 'string',
			default: '',
			description: 'Name this machine gives in EHLO; empty uses the machine name',
		},
	];
}
