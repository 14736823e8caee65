import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { renderSms } from '../../../../engine/messaging';
import { runPerItem } from '../../../shared/runner';
import { contentLabels, smsContentReader } from '../content';

/** Render (SMS): the text exactly as Send would build it, without sending; one item out per item in. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const reader = smsContentReader(this);
	return await runPerItem(
		this,
		(item, itemIndex) => {
			const rendered = renderSms(reader.content(item, itemIndex));
			return { ...item.json, rendered: { channel: 'sms', ...rendered } };
		},
		contentLabels('sms', reader.source, reader.dataFrom),
	);
}
