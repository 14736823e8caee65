import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { renderEmail } from '../../../../engine/messaging';
import { runPerItem } from '../../../shared/runner';
import { contentLabels, emailContentReader } from '../content';

/** Render (email): the email exactly as Send would build it, without sending; one item out per item in. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const reader = emailContentReader(this);
	return await runPerItem(
		this,
		(item, itemIndex) => {
			const rendered = renderEmail(reader.content(item, itemIndex));
			return { ...item.json, rendered: { channel: 'email', ...rendered } };
		},
		contentLabels('email', reader.source, reader.dataFrom),
	);
}
