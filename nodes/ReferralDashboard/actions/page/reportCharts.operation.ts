import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError, updateDisplayOptions } from 'n8n-workflow';
import { svgToPng } from '../../../../engine/charts';
import { dashboardCharts } from '../../../../engine/pages/dashboard';
import { ledgerFor } from '../../../shared/ledger';
import { parameterReader } from '../../../shared/parameters';
import { toNodeError } from '../../../shared/runner';
import { dashboardFor, dashboardProperties, fieldLabels } from './common';

export const description = updateDisplayOptions({ show: { operation: ['reportCharts'] } }, [
	...dashboardProperties,
	{
		displayName: 'Formats',
		name: 'formats',
		type: 'multiOptions',
		options: [
			{ name: 'PNG (for Email)', value: 'png' },
			{ name: 'SVG', value: 'svg' },
		],
		default: ['png', 'svg'],
		description: 'PNG for mail clients that do not show SVG (Gmail, Outlook); SVG to embed in HTML',
	},
]);

/**
 * The dashboard's charts (funnel, over time, top referrers; RFM segments and loyalty index with
 * Loyalty Data) as binary files for an email: `<name>.png` and `<name>.svg`. The JSON keeps the
 * input item's fields and adds the headline figures, each chart's SVG markup (`svg`) and each PNG
 * as a data URI (`images`, for `<img src>` in an email template).
 */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const ledger = await ledgerFor(this);
	const items = this.getInputData();
	const out: INodeExecutionData[] = [];
	for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
		try {
			const { data, locale } = await dashboardFor(
				this,
				ledger,
				items[itemIndex].json,
				itemIndex,
				Date.now(),
			);
			const formats = parameterReader<string[]>(this, 'formats', ['png', 'svg'])(itemIndex);
			if (formats.length === 0)
				throw new NodeOperationError(this.getNode(), 'Choose at least one format', { itemIndex });
			const charts = dashboardCharts(data, locale);
			const binary: INodeExecutionData['binary'] = {};
			const images: Record<string, string> = {};
			for (const [name, svg] of Object.entries(charts)) {
				if (formats.includes('png')) {
					const png = svgToPng(svg);
					binary[`${name}Png`] = await this.helpers.prepareBinaryData(
						png,
						`${name}.png`,
						'image/png',
					);
					images[name] = `data:image/png;base64,${png.toString('base64')}`;
				}
				if (formats.includes('svg'))
					binary[`${name}Svg`] = await this.helpers.prepareBinaryData(
						Buffer.from(svg, 'utf8'),
						`${name}.svg`,
						'image/svg+xml',
					);
			}
			const s = data.stats;
			out.push({
				json: {
					...items[itemIndex].json,
					program: data.programId,
					period: s.period,
					from: s.from,
					until: s.until,
					funnel: { ...s.funnel },
					kFactor: s.kFactor?.value ?? null,
					referralRate: s.referralRate,
					referralCac: s.referralCac ? { ...s.referralCac } : null,
					charts: Object.keys(charts),
					svg: charts,
					images,
				},
				binary,
				pairedItem: { item: itemIndex },
			});
		} catch (error) {
			const nodeError =
				error instanceof NodeOperationError
					? error
					: toNodeError(this, error, itemIndex, fieldLabels);
			if (!this.continueOnFail()) throw nodeError;
			out.push({
				json: { ...items[itemIndex].json, error: nodeError.message },
				pairedItem: { item: itemIndex },
			});
		}
	}
	return out;
}
