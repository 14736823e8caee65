import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { ReferralService } from '../../../../engine/refunds';
import { reviewDecision, reviewSecret, sessionOf } from '../../../../engine/pages/dashboard';
import { isRecord } from '../../../../engine/shared/guards';
import { ledgerFor } from '../../../shared/ledger';
import type { ToolUse } from '../../../shared/tool';
import { parameterReader } from '../../../shared/parameters';
import { runPerItem } from '../../../shared/runner';
import { fieldLabels, headersOf, readProgram } from './common';

export const description = updateDisplayOptions({ show: { operation: ['reviewDecision'] } }, [
	{
		displayName: 'Review Queue URL',
		name: 'reviewUrl',
		type: 'string',
		default: '/webhook/referral-dashboard/review',
		description: 'Where to send the reviewer back after the decision (303 See Other)',
	},
]);

/**
 * A reviewer's Approve or Reject from the review queue's form (the Webhook's item: body, headers):
 * checks the form token against the session cookie, refuses cross-site requests, then approves or
 * rejects through the Referral node's own operations (a replay answers like the first request).
 */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const ledger = await ledgerFor(this);
	return await runPerItem(
		this,
		async (item, itemIndex) => {
			const programId = readProgram(this, itemIndex);
			await ledger.ensureProgram({ id: programId });
			const headers = headersOf(item.json);
			const outcome = await reviewDecision({
				programId,
				secret: await reviewSecret(ledger, programId),
				sessionId: sessionOf(headers),
				form: isRecord(item.json.body) ? item.json.body : {},
				headers,
				now: Date.now(),
				reviewUrl: parameterReader<string>(this, 'reviewUrl', '')(itemIndex) || '/',
				decide: async (decision, referralId) => {
					const service = await ReferralService.open(ledger, programId);
					return decision === 'approve'
						? await service.approve(referralId, 'approved in the review queue')
						: await service.reject(referralId, 'rejected in the review queue');
				},
			});
			return outcome;
		},
		fieldLabels,
	);
}

/** A reviewer's form post (session cookie, form token), never an AI Agent's call: agents use Referral › Approve or Reject. */
export const toolUse: ToolUse = {
	refuse:
		"it answers a reviewer's Approve or Reject form from the review queue page; use the Referral node's Approve or Reject",
};
