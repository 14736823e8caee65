/* Unsubscribing through a signed link: the token (engine/shared/links) names the channel and the
 * address it was made for, so the link unsubscribes that address and no other; a forged, altered or
 * expired token changes nothing. `checkOnly` is for the confirmation page a GET shows (mail scanners
 * open links; only the POST unsubscribes). */
import { type LinkSecrets, maskAddress, verifyUnsubscribeLink } from '../shared/links';
import { normalizeRecipient } from './send';
import type { Channel, MessageLedger } from './types';

export interface LinkUnsubscribeResult {
	channel: Channel;
	address: string;
	/** For a page the recipient sees: `a••@example.com`. */
	maskedAddress: string;
	suppressed: boolean;
	/** Check Only: nothing was changed. */
	checkedOnly?: true;
	reason?: string;
}

export async function unsubscribeWithLink(
	ledger: MessageLedger,
	input: {
		token: unknown;
		secrets: LinkSecrets;
		reason?: string;
		checkOnly?: boolean;
		now?: number;
	},
): Promise<LinkUnsubscribeResult> {
	const { channel, address: claimed } = verifyUnsubscribeLink(input.token, {
		secrets: input.secrets,
		now: input.now,
	});
	const address = normalizeRecipient(channel, claimed);
	const shown = { channel, address, maskedAddress: maskAddress(address) };
	if (input.checkOnly)
		return {
			...shown,
			suppressed: (await ledger.isSuppressed(channel, address)) !== null,
			checkedOnly: true,
		};
	const reason = input.reason?.trim() || 'unsubscribe link';
	await ledger.suppress(channel, address, reason);
	return { ...shown, suppressed: true, reason };
}
