import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { dashboardHtml, pageHeaders } from '../../../../engine/pages/dashboard';
import { ledgerFor } from '../../../shared/ledger';
import { runPerItem } from '../../../shared/runner';
import {
	dashboardFor,
	dashboardProperties,
	fieldLabels,
	linkProperties,
	readLinks,
} from './common';

export const description = updateDisplayOptions({ show: { operation: ['dashboardPage'] } }, [
	...dashboardProperties,
	...linkProperties,
]);

/** The marketer dashboard as one HTML page: {html, statusCode, headers} for Respond to Webhook. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const ledger = await ledgerFor(this);
	return await runPerItem(
		this,
		async (item, itemIndex) => {
			const { data, locale } = await dashboardFor(this, ledger, item.json, itemIndex, Date.now());
			return {
				html: dashboardHtml(data, { locale, ...readLinks(this, itemIndex) }),
				statusCode: 200,
				headers: pageHeaders(),
			};
		},
		fieldLabels,
	);
}
