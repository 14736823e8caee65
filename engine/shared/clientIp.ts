/* The client of a web request as n8n received it. n8n's Webhook node hands a workflow the request's
 * headers, query and body, but not the socket address; behind a reverse proxy, n8n trusts
 * `N8N_PROXY_HOPS` proxies (Express "trust proxy" with a hop count), and so do we: the client IP is
 * the address that many hops from the right of X-Forwarded-For, the one the nearest trusted proxy
 * appended. Entries further left were written by the caller and prove nothing. Without a proxy
 * (hops 0) no header is trusted and there is no IP. */
import { isIP } from 'node:net';

/** Proxies in front of n8n whose X-Forwarded-For entries are trusted: `N8N_PROXY_HOPS`, 0 when unset or invalid. */
export function proxyHops(env: NodeJS.ProcessEnv = process.env): number {
	const raw = env.N8N_PROXY_HOPS;
	if (raw === undefined || raw.trim() === '') return 0;
	const hops = Number(raw);
	return Number.isSafeInteger(hops) && hops > 0 ? hops : 0;
}

export interface RequestClient {
	/** The client's IP address, or undefined when no trusted proxy vouched for one. */
	ip?: string;
	/** The User-Agent header as sent (a weak signal: the caller writes it). */
	userAgent?: string;
}

function header(headers: Record<string, unknown>, name: string): string | undefined {
	const value =
		headers[name] ?? headers[Object.keys(headers).find((key) => key.toLowerCase() === name) ?? ''];
	if (Array.isArray(value)) return value.map(String).join(', ');
	return typeof value === 'string' ? value : undefined;
}

/** Strips an IPv6 zone-less bracket form and a port an odd proxy may leave: `[::1]:80`, `1.2.3.4:80`. */
function cleanAddress(entry: string): string | undefined {
	let address = entry.trim();
	const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
	if (bracketed) address = bracketed[1];
	else if (/^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(address))
		address = address.slice(0, address.lastIndexOf(':'));
	if (address.toLowerCase().startsWith('::ffff:') && isIP(address.slice(7)) === 4)
		address = address.slice(7);
	return isIP(address) ? address : undefined;
}

/**
 * The client of a request from its headers (as n8n's Webhook node outputs them), trusting `hops`
 * proxies: the `hops`-th X-Forwarded-For entry from the right, as Express computes `req.ip` with
 * `trust proxy` set to that count. Fewer entries than hops gives the leftmost, as Express does.
 */
export function clientFromHeaders(headers: unknown, hops: number): RequestClient {
	if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) return {};
	const record = headers as Record<string, unknown>;
	const userAgent = header(record, 'user-agent');
	const client: RequestClient = userAgent ? { userAgent: userAgent.slice(0, 1024) } : {};
	if (hops <= 0) return client;
	const forwarded = (header(record, 'x-forwarded-for') ?? '')
		.split(',')
		.map((entry) => entry.trim())
		.filter((entry) => entry !== '');
	if (forwarded.length === 0) return client;
	const ip = cleanAddress(forwarded[Math.max(0, forwarded.length - hops)]);
	return ip ? { ...client, ip } : client;
}
