import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { compareNpsGroups, netPromoterScore, type NpsResult } from '../../../../engine/analytics';
import { EngineError } from '../../../../engine/shared/errors';
import { type AggregateItem, runAggregate } from '../../../shared/aggregate';
import { engineItems, exclusionHints, readString } from '../common';

const displayOptions = { show: { operation: ['nps'] } };

const properties: INodeProperties[] = [
	{
		displayName: 'Score Field',
		name: 'scoreField',
		type: 'string',
		default: 'score',
		required: true,
		placeholder: 'e.g. answers.recommend',
		hint: 'The name of the field holding the 0–10 answer to "How likely are you to recommend us?"',
		description:
			'Field of each survey response with the score. Blank answers are left out and counted; anything outside 0–10 stops the node.',
	},
	{
		displayName: 'Group By Field',
		name: 'groupField',
		type: 'string',
		default: '',
		placeholder: 'e.g. channel',
		hint: 'Optional: the name of a field to break the NPS down by (channel, campaign, country)',
		description:
			'Field whose values split the responses into groups, each with its own NPS; blank values form the group "(none)"',
	},
	{
		displayName: 'Output',
		name: 'npsOutput',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'Difference Between Two Groups',
				value: 'difference',
				description:
					'One item: the two groups’ NPS, their difference with its 95% interval, p-value and whether it is significant',
			},
			{
				name: 'One Item per Group',
				value: 'groups',
				description:
					'One item per value of the Group By Field with its NPS, shares and 95% interval',
			},
			{
				name: 'Per-Response Items',
				value: 'responses',
				description:
					'Each answered response as it came in, plus "npsCategory": promoter, passive or detractor',
			},
			{
				name: 'Summary',
				value: 'summary',
				description:
					'One item with the overall NPS, its 95% interval, the groups, responses left out and warnings',
			},
		],
		default: 'summary',
	},
	{
		displayName: 'Group A',
		name: 'groupA',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'e.g. 2024-Q2',
		hint: 'A value of the Group By Field: a channel, or a period when the field holds one (this quarter)',
		description: 'The difference is Group A’s NPS minus Group B’s',
		displayOptions: { show: { npsOutput: ['difference'] } },
	},
	{
		displayName: 'Group B',
		name: 'groupB',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'e.g. 2024-Q1',
		hint: 'The value to compare with, e.g. the previous quarter',
		displayOptions: { show: { npsOutput: ['difference'] } },
	},
];

export const description = updateDisplayOptions(displayOptions, properties);

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const scoreField = readString(this, 'scoreField', 'score');
	const groupField = readString(this, 'groupField', '');
	const fieldLabels = {
		[scoreField]: 'Score Field',
		scoreField: 'Score Field',
		groupField: 'Group By Field',
		groupA: 'Group A',
		groupB: 'Group B',
	};

	return await runAggregate(
		this,
		(items) => {
			const output = readString(this, 'npsOutput', 'summary');
			if ((output === 'groups' || output === 'difference') && groupField === '') {
				const what = output === 'groups' ? 'One Item per Group' : 'Difference Between Two Groups';
				throw new EngineError(
					'missing_group_field',
					`${what} needs a Group By Field, e.g. "channel"`,
					{ field: 'groupField' },
				);
			}
			const result = netPromoterScore(engineItems(items, [scoreField, groupField]), {
				scoreField,
				groupField: groupField || undefined,
			});
			if (output === 'difference') {
				const comparison = compareNpsGroups(
					result,
					readString(this, 'groupA', ''),
					readString(this, 'groupB', ''),
				);
				const from = result.rows
					.filter(
						(row) => row.group === comparison.groupA.group || row.group === comparison.groupB.group,
					)
					.map((row) => row.index);
				return {
					items: [{ json: { ...comparison }, from }],
					hints: exclusionHints(result.summary.excluded, result.summary.warnings, 'NPS'),
				};
			}
			return {
				items: npsOutput(result, output, items, groupField),
				hints: exclusionHints(result.summary.excluded, result.summary.warnings, 'NPS'),
			};
		},
		fieldLabels,
	);
}

function npsOutput(
	result: NpsResult,
	output: string,
	items: INodeExecutionData[],
	groupField: string,
): AggregateItem[] {
	if (output === 'responses') {
		return result.rows.map((row) => ({
			json: { ...items[row.index].json, npsCategory: row.category },
			from: [row.index],
		}));
	}
	if (output === 'groups') {
		const positions = new Map<string, number[]>();
		for (const row of result.rows) {
			const list = positions.get(row.group!) ?? [];
			list.push(row.index);
			positions.set(row.group!, list);
		}
		return result.summary.groups.map(({ group, ...statistics }) => ({
			json: { [groupField]: group, ...statistics },
			from: positions.get(group),
		}));
	}
	return [{ json: { ...result.summary } }];
}
