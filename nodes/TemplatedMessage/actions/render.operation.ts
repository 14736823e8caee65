import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { renderEmail, renderSms } from '../../../engine/messaging';
import { runPerItem } from '../../shared/runner';
import { contentLabels, emailContentReader, smsContentReader } from './content';

/** Render: the message exactly as Send would build it, without sending; one item out per item in. */
export async function execute(this: IExecuteFunctions, channel: 'email' | 'sms'): Promise<INodeExecutionData[]> {
	if (channel === 'email') {
		const reader = emailContentReader(this);
		return await runPerItem(
			this,
			(item, itemIndex) => {
				const rendered = renderEmail(reader.content(item, itemIndex));
				return { ...item.json, rendered: { channel: 'email', ...rendered } as IDataObject };
			},
			contentLabels('email', reader.source, reader.dataFrom),
		);
	}
	const reader = smsContentReader(this);
	return await runPerItem(
		this,
		(item, itemIndex) => {
			const rendered = renderSms(reader.content(item, itemIndex));
			return { ...item.json, rendered: { channel: 'sms', ...rendered } as unknown as IDataObject };
		},
		contentLabels('sms', reader.source, reader.dataFrom),
	);
}
