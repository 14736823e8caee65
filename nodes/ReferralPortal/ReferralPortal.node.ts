import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';
import { ledgerNotice, referralLedgerConnectionTest } from '../shared/ledger';
import { linkSecretTest } from '../shared/linkSecret';
import { programProperty, searchPrograms } from '../shared/program';
import * as page from './actions/page/Page.resource';
import { router } from './actions/router';

/* Not an AI Agent tool: it renders a whole HTML page for a browser (issue #19). n8n's type has no `usableAsTool: false`, so the property is left out. */
// eslint-disable-next-line @n8n/community-nodes/node-usable-as-tool
export class ReferralPortal implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Referral Portal',
		name: 'referralPortal',
		icon: { light: 'file:referralPortal.svg', dark: 'file:referralPortal.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ $parameter["operation"] }}',
		description:
			"Serve a participant's own referral page (code, link, QR code, share buttons, progress, rewards) as HTML from a webhook",
		defaults: { name: 'Referral Portal' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{
				name: 'referralLedgerApi',
				displayName: 'Ledger Database',
				required: false,
				testedBy: 'referralLedgerConnectionTest',
			},
			{
				name: 'referralLinkSecretApi',
				displayName: 'Link Signing Secret',
				required: true,
				testedBy: 'linkSecretTest',
			},
		],
		properties: [
			ledgerNotice,
			page.operationProperty,
			programProperty(
				'Key of the referral program whose private links the page opens (its Page Language and Share Texts are set in Referral › Program › Create or Update)',
			),
			...page.description,
		],
	};

	methods = {
		credentialTest: { referralLedgerConnectionTest, linkSecretTest },
		listSearch: { searchPrograms },
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
