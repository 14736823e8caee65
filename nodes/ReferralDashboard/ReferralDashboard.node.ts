import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';
import * as page from './actions/page/Page.resource';
import { router } from './actions/router';
import { ledgerNotice, referralLedgerConnectionTest } from '../shared/ledger';
import { programProperty } from '../shared/program';
import { searchPrograms } from '../shared/program';

/* Not an AI Agent tool: it renders pages and charts for people in a browser or an email, and its Review Decision answers a reviewer's form (session, form token); agents use Referral › Approve or Reject. n8n's type has no `usableAsTool: false`, so the property is left out. */
// eslint-disable-next-line @n8n/community-nodes/node-usable-as-tool
export class ReferralDashboard implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Referral Dashboard',
		name: 'referralDashboard',
		icon: { light: 'file:referralDashboard.svg', dark: 'file:referralDashboard.dark.svg' },
		group: ['output'],
		version: 1,
		subtitle: '={{ $parameter["operation"] }}',
		description:
			'Marketer dashboard and review queue as HTML pages, and report charts as PNG for email',
		defaults: { name: 'Referral Dashboard' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{
				name: 'referralLedgerApi',
				displayName: 'Ledger Database',
				required: false,
				testedBy: 'referralLedgerConnectionTest',
			},
		],
		properties: [
			ledgerNotice,
			page.operationProperty,
			programProperty('Key of the referral program'),
			...page.description,
		],
	};

	methods = {
		credentialTest: { referralLedgerConnectionTest },
		listSearch: { searchPrograms },
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
