import type { ToolUse } from '../../../shared/tool';
import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { rewardNoticeKeys, rewardNotices } from '../../../../engine/rewards';
import { requiredField } from '../../../shared/fields';
import { ledgerFor } from '../../../shared/ledger';
import { parameterReader } from '../../../shared/parameters';
import { runPerItem } from '../../../shared/runner';
import { programReader } from '../../../shared/program';
import { fieldLabels, referralProperties, referralReader } from '../fields';
import { rewardServiceFor } from '../rules';
import { description as rulesForm, ruleFieldLabels } from '../rules.description';

/** The shared lookup fields of fields.ts, shown here by this operation alone. */
/** The shared properties without their own operation condition (this operation's is added below); other conditions stay. */
const own = (properties: INodeProperties[]) =>
	properties.map((property): INodeProperties => {
		const { operation: _operation, ...show } = property.displayOptions?.show ?? {};
		return { ...property, displayOptions: { ...property.displayOptions, show } };
	});

const properties: INodeProperties[] = [
	...own(referralProperties),
	{
		displayName: 'Output',
		name: 'outputMode',
		type: 'options',
		options: [
			{
				name: 'One Item per Referral',
				value: 'perReferral',
				description:
					'The input item with rewards, skipped and notices added; notices holds one entry per person with a new reward, for a Split Out node and an email',
			},
			{
				name: 'One Item per Reward',
				value: 'perReward',
				description: 'Ready for a Send Email, Stripe or Shopify node',
			},
		],
		default: 'perReferral',
	},
	{
		displayName: 'Owe Reward Emails',
		name: 'oweNotices',
		type: 'boolean',
		default: false,
		description:
			'Whether to record, with the rewards and in the same ledger transaction, the email each rewarded person is owed (topic reward.earned). A Templated Message node set to Send Owed Messages delivers them from the ledger, so a crash neither loses nor repeats one; messageKeys lists their keys.',
	},
	{
		displayName: 'Replay Key Field',
		name: 'replayKeyField',
		type: 'string',
		default: '',
		placeholder: 'orderId',
		description:
			"Name of the input field holding the request's own key, such as the order ID. Another evaluation with the same key (a replayed webhook) answers exactly like the first, even when the ledger changed in between (a late order moved the referral up a rank). Empty: each evaluation answers what stands now.",
	},
	...rulesForm,
];

export const description = updateDisplayOptions({ show: { operation: ['evaluate'] } }, properties);

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const ledger = await ledgerFor(this);
	const programFor = programReader(this, ledger);
	const referralFor = referralReader(this, ledger);
	const outputFor = parameterReader<string>(this, 'outputMode', 'perReferral');
	const oweNotices = this.getNodeParameter('oweNotices', 0, false) as boolean;
	const serviceFor = rewardServiceFor(this, ledger, { oweNotices });
	const replayKeyFieldFor = parameterReader<string>(this, 'replayKeyField', '');
	return await runPerItem(
		this,
		async (item, itemIndex) => {
			const program = await programFor(itemIndex);
			const service = serviceFor(program);
			const referralId = await referralFor(item.json, itemIndex, program);
			const keyField = replayKeyFieldFor(itemIndex);
			const replayKey = keyField
				? String(
						requiredField(item.json, keyField, {
							field: 'replayKeyField',
							parameter: 'Replay Key Field',
							holding: "the request's own key (such as the order ID)",
						}),
					)
				: undefined;
			const result = await service.evaluateReferral(referralId, { replayKey });
			if (outputFor(itemIndex) === 'perReward') {
				return result.rewards.map((r) => ({
					...r,
					referralStatus: result.referralStatus,
					...(oweNotices && r.email
						? { messageKeys: rewardNoticeKeys(result.referralId, [r]) }
						: {}),
				}));
			}
			return {
				...item.json,
				referralId: result.referralId,
				referralStatus: result.referralStatus,
				rewards: result.rewards,
				skipped: result.skipped,
				notices: rewardNotices(result.referralId, result.rewards, result.noticeRewardIds ?? []),
				...(oweNotices ? { messageKeys: rewardNoticeKeys(result.referralId, result.rewards) } : {}),
			};
		},
		{ ...ruleFieldLabels, ...fieldLabels },
		{ batch: ledger },
	);
}

/** Moves money or points: an AI Agent may run it only with Allow as AI Tool on (issue #19). */
export const toolUse: ToolUse = { moneyMoving: true };
