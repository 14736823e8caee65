import type { ICredentialType, INodeProperties } from 'n8n-workflow';

/**
 * An SMTP server for the Templated Message node (sent through nodemailer). SMTP is not HTTP, so the
 * node tests it (`testedBy: 'referralSmtpConnectionTest'`): it connects, says hello and logs in.
 */
export class ReferralSmtpApi implements ICredentialType {
	name = 'referralSmtpApi';

	displayName = 'Referral Marketing SMTP API';

	icon = { light: 'file:messageEmail.svg', dark: 'file:messageEmail.dark.svg' } as const;

	documentationUrl =
		'https://github.com/n8n-nodes-referral-marketing/n8n-nodes-referral-marketing/blob/main/docs/nodes/templated-message.md';

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
			description:
				'Whether to use TLS from the first byte (port 465). Off: STARTTLS is used when the server offers it.',
		},
		{
			displayName: 'STARTTLS',
			name: 'starttls',
			type: 'options',
			options: [
				{
					name: 'Required on Port 587',
					value: 'requiredOn587',
					description:
						'Port 587 refuses to send unless STARTTLS encrypts the connection; other ports use it when the server offers it',
				},
				{
					name: 'Always Required',
					value: 'required',
					description: 'Refuse to send unless STARTTLS encrypts the connection',
				},
				{
					name: 'When Offered (Insecure Fallback)',
					value: 'whenOffered',
					description:
						'Send unencrypted when the server offers no STARTTLS: only for a relay on a trusted network',
				},
			],
			default: 'requiredOn587',
			description:
				'Whether the connection must be upgraded with STARTTLS before the login and the message go over it',
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
