/* Email assembly: address validation, header safety, and the commercial-mode obligations
 * (CAN-SPAM postal address, RFC 2369 List-Unsubscribe with RFC 8058 one-click POST). */
import { EngineError } from '../shared/errors';
import { emailProblem, isValidEmail } from '../shared/email';
import type { EmailAddress, OutgoingEmail } from './types';

function forItem(itemLabel?: string): string {
	return itemLabel ? ` (${itemLabel})` : '';
}

/**
 * Reads `ann@example.com` or `Ann Lee <ann@example.com>` (the name may be quoted). One address only:
 * every message goes to one recipient, so suppression and idempotency are per person. The address
 * must pass the engine's one email rule (engine/shared/email.ts); it is returned as written (the
 * header shows what the sender typed), and `normalizeEmail` gives its stored form for keys.
 */
export function parseEmailAddress(input: unknown, field: string, itemLabel?: string): EmailAddress {
	if (typeof input !== 'string' || input.trim() === '') {
		throw new EngineError(
			'invalid_email_address',
			`The ${field} address${forItem(itemLabel)} is missing.`,
			{ field },
		);
	}
	const raw = input.trim();
	if (/[\r\n\0]/.test(raw)) {
		throw new EngineError(
			'invalid_email_address',
			`The ${field} address${forItem(itemLabel)} contains a line break, which is not allowed in an email header.`,
			{
				field,
			},
		);
	}
	const named = /^(?:"((?:[^"\\]|\\.)*)"|([^<>"]*?))\s*<([^<>\s]+)>$/.exec(raw);
	const address = named ? named[3] : raw;
	const name = named
		? (named[1] !== undefined ? named[1].replace(/\\(.)/g, '$1') : named[2]).trim()
		: undefined;
	const problem = emailProblem(address);
	if (problem !== null) {
		const several = /[,;]/.test(raw) ? ' Give one address per message.' : '';
		throw new EngineError(
			'invalid_email_address',
			`"${raw}"${forItem(itemLabel)} is not a valid ${field} address (${problem}); use name@example.com or "Name <name@example.com>".${several}`,
			{ field },
		);
	}
	return name ? { address, name } : { address };
}

export function formatEmailAddress(address: EmailAddress): string {
	if (!address.name) return address.address;
	return `"${address.name.replace(/(["\\])/g, '\\$1')}" <${address.address}>`;
}

export interface CommercialEmailOptions {
	/** The sender's valid physical postal address (CAN-SPAM); printed in the footer. */
	postalAddress: string;
	/** HTTPS link that unsubscribes this recipient, with a POST handler for RFC 8058 one-click. */
	unsubscribeUrl: string;
	/** Optional mailbox for unsubscribe requests (an address or a mailto: URL). */
	unsubscribeMailto?: string;
	/** Text of the footer link; default "Unsubscribe". */
	unsubscribeLabel?: string;
}

interface CheckedCommercial {
	postalAddress: string;
	unsubscribeUrl: string;
	mailto?: string;
	label: string;
}

export function checkCommercialOptions(
	options: CommercialEmailOptions,
	itemLabel?: string,
): CheckedCommercial {
	const postalAddress =
		typeof options.postalAddress === 'string' ? options.postalAddress.trim() : '';
	if (postalAddress === '') {
		throw new EngineError(
			'missing_postal_address',
			`Commercial email${forItem(itemLabel)} needs the sender's postal address (street address or registered PO box) for the footer.`,
			{ field: 'postalAddress' },
		);
	}
	const rawUrl = typeof options.unsubscribeUrl === 'string' ? options.unsubscribeUrl.trim() : '';
	let url: URL | undefined;
	try {
		url = new URL(rawUrl);
	} catch {
		url = undefined;
	}
	if (url === undefined || url.protocol !== 'https:') {
		throw new EngineError(
			'invalid_unsubscribe_url',
			`Commercial email${forItem(itemLabel)} needs an https unsubscribe link for one-click unsubscribe (RFC 8058); got "${rawUrl}".`,
			{ field: 'unsubscribeUrl' },
		);
	}
	let mailto: string | undefined;
	if (options.unsubscribeMailto !== undefined && options.unsubscribeMailto.trim() !== '') {
		const value = options.unsubscribeMailto.trim();
		const address = value.replace(/^mailto:/i, '').split('?')[0];
		if (!isValidEmail(address) || /[\s<>,]/.test(value)) {
			throw new EngineError(
				'invalid_unsubscribe_mailto',
				`Unsubscribe mailbox "${value}" is not an email address or mailto: link.`,
				{
					field: 'unsubscribeMailto',
				},
			);
		}
		mailto = /^mailto:/i.test(value) ? value : `mailto:${value}?subject=unsubscribe`;
	}
	const label = options.unsubscribeLabel?.trim() || 'Unsubscribe';
	return { postalAddress, unsubscribeUrl: url.href, mailto, label };
}

/** One List-Unsubscribe header with both URIs (two headers would make parsers keep only one). */
export function listUnsubscribeHeaders(commercial: CheckedCommercial): Record<string, string> {
	const uris = [`<${commercial.unsubscribeUrl}>`];
	if (commercial.mailto) uris.push(`<${commercial.mailto}>`);
	return {
		'List-Unsubscribe': uris.join(', '),
		'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
	};
}

const HTML_ESCAPES: Record<string, string> = {
	'&': '&amp;',
	'<': '&lt;',
	'>': '&gt;',
	'"': '&quot;',
	"'": '&#x27;',
};

function escapeHtml(text: string): string {
	return /[&<>"']/.test(text) ? text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]) : text;
}

/** Where the last `</body>` starts, in any letter case, or -1. */
function lastBodyClose(html: string): number {
	const lower = html.lastIndexOf('</body');
	if (lower >= 0) return lower;
	const match = /<\/body\s*>(?![\s\S]*<\/body\s*>)/i.exec(html);
	return match ? match.index : -1;
}

/** Adds the postal address and unsubscribe link to both parts: before `</body>` when there is one. */
export function addCommercialFooter(
	html: string,
	text: string,
	commercial: CheckedCommercial,
): { html: string; text: string } {
	const lines = commercial.postalAddress
		.split(/\r?\n/)
		.map((line) => line.trim())
		.filter((line) => line !== '');
	const footerHtml =
		'<div style="margin-top:24px;font-size:12px;line-height:1.5;color:#666666">' +
		lines.map(escapeHtml).join('<br>') +
		`<br><a href="${escapeHtml(commercial.unsubscribeUrl)}">${escapeHtml(commercial.label)}</a></div>`;
	const bodyClose = lastBodyClose(html);
	const withFooter =
		bodyClose >= 0
			? html.slice(0, bodyClose) + footerHtml + html.slice(bodyClose)
			: html + footerHtml;
	const footerText = `\n\n--\n${lines.join('\n')}\n${commercial.label}: ${commercial.unsubscribeUrl}`;
	return { html: withFooter, text: text.trimEnd() + footerText };
}

/** Headers the engine or the provider sets itself; a caller may not override them. */
const RESERVED_HEADERS = new Set([
	'from',
	'to',
	'cc',
	'bcc',
	'reply-to',
	'subject',
	'date',
	'message-id',
	'mime-version',
	'content-type',
	'content-transfer-encoding',
	'list-unsubscribe',
	'list-unsubscribe-post',
	'sender',
	'return-path',
]);

export function checkCustomHeaders(
	headers: Record<string, string> | undefined,
	itemLabel?: string,
): Record<string, string> {
	const checked: Record<string, string> = {};
	if (headers === undefined) return checked;
	for (const [name, value] of Object.entries(headers)) {
		if (!/^[A-Za-z0-9][A-Za-z0-9-]{0,75}$/.test(name)) {
			throw new EngineError(
				'invalid_header',
				`Header name "${name}"${forItem(itemLabel)} may only hold letters, digits and "-".`,
				{ field: 'headers' },
			);
		}
		if (RESERVED_HEADERS.has(name.toLowerCase())) {
			throw new EngineError(
				'invalid_header',
				`Header "${name}"${forItem(itemLabel)} is set by the node itself; use the matching option instead.`,
				{
					field: 'headers',
				},
			);
		}
		if (typeof value !== 'string' || /[\r\n\0]/.test(value)) {
			throw new EngineError(
				'invalid_header',
				`Header "${name}"${forItem(itemLabel)} must be one line of text.`,
				{ field: 'headers' },
			);
		}
		checked[name] = value;
	}
	return checked;
}

/** A subject is one header line: line breaks from template formatting become spaces. */
export function cleanSubject(subject: string, itemLabel?: string): string {
	const cleaned = subject
		.replace(/\s*[\r\n]+\s*/g, ' ')
		.replace(/\0/g, '')
		.trim();
	if (cleaned === '') {
		throw new EngineError(
			'empty_subject',
			`The subject${forItem(itemLabel)} is empty after rendering.`,
			{ field: 'subject' },
		);
	}
	return cleaned;
}

export interface EmailAddressing {
	from: string;
	to: string;
	replyTo?: string;
	headers?: Record<string, string>;
}

/** Puts rendered content and validated addressing together into one provider-neutral message. */
export function assembleEmail(
	addressing: EmailAddressing,
	content: { subject: string; html: string; text: string; headers?: Record<string, string> },
	options: { idempotencyKey?: string; itemLabel?: string } = {},
): OutgoingEmail {
	const { itemLabel } = options;
	const email: OutgoingEmail = {
		from: parseEmailAddress(addressing.from, 'from', itemLabel),
		to: parseEmailAddress(addressing.to, 'to', itemLabel),
		subject: cleanSubject(content.subject, itemLabel),
		html: content.html,
		text: content.text,
		headers: { ...checkCustomHeaders(addressing.headers, itemLabel), ...content.headers },
	};
	if (addressing.replyTo !== undefined && addressing.replyTo.trim() !== '')
		email.replyTo = parseEmailAddress(addressing.replyTo, 'reply-to', itemLabel);
	if (options.idempotencyKey !== undefined) email.idempotencyKey = options.idempotencyKey;
	return email;
}
