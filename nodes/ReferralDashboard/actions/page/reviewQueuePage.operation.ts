import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import {
	DECISION_NOTICES,
	formToken,
	loadReviewQueue,
	newSessionId,
	pageHeaders,
	reviewQueueHtml,
	reviewSecret,
	sessionCookie,
	sessionOf,
} from '../../../../engine/pages/dashboard';
import { isRecord } from '../../../../engine/shared/guards';
import { ledgerFor } from '../../../shared/ledger';
import { parameterReader } from '../../../shared/parameters';
import { runPerItem } from '../../../shared/runner';
import { fieldLabels, headersOf, linkProperties, readLinks, readProgram } from './common';

export const description = updateDisplayOptions({ show: { operation: ['reviewQueuePage'] } }, [
	...linkProperties,
	{
		displayName: 'Decision URL',
		name: 'actionUrl',
		type: 'string',
		default: '/webhook/referral-dashboard/review',
		description:
			'Where the Approve and Reject forms POST (the Webhook in front of Review Decision)',
	},
	{
		displayName: 'Locale',
		name: 'locale',
		type: 'string',
		default: 'en',
		description: 'Language tag for numbers, e.g. en, de-DE',
	},
]);

/**
 * Flagged referrals with their reasons and evidence, each with Approve and Reject forms carrying a
 * token bound to the reviewer's session (a cookie set here when the request has none).
 */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const ledger = await ledgerFor(this);
	return await runPerItem(
		this,
		async (item, itemIndex) => {
			const programId = readProgram(this, itemIndex);
			await ledger.ensureProgram({ id: programId });
			const headers = headersOf(item.json);
			const existing = sessionOf(headers);
			const sessionId = existing ?? newSessionId();
			const secret = await reviewSecret(ledger, programId);
			const now = Date.now();
			const query = isRecord(item.json.query) ? item.json.query : {};
			const notice =
				typeof query.notice === 'string' && Object.hasOwn(DECISION_NOTICES, query.notice)
					? DECISION_NOTICES[query.notice]
					: undefined;
			const referral =
				typeof query.referral === 'string' && /^\d{1,18}$/.test(query.referral)
					? query.referral
					: null;
			const links = readLinks(this, itemIndex);
			const items = await loadReviewQueue(ledger, { programId });
			const html = reviewQueueHtml(items, {
				...links,
				locale: parameterReader<string>(this, 'locale', 'en')(itemIndex) || 'en',
				actionUrl:
					parameterReader<string>(this, 'actionUrl', '')(itemIndex) || links.reviewUrl || '',
				tokenFor: (referralId, action) =>
					formToken(secret, { sessionId, programId, referralId: String(referralId), action }, now),
				notice: notice && {
					kind: notice.kind,
					text: referral ? `Referral ${referral}: ${notice.text}` : notice.text,
				},
			});
			return {
				html,
				statusCode: 200,
				headers: pageHeaders(existing ? {} : { 'set-cookie': sessionCookie(sessionId) }),
				flagged: items.length,
			};
		},
		fieldLabels,
	);
}
