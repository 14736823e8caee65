import { describe, expect, it } from 'vitest';
import { clientFromHeaders, proxyHops } from '../../../engine/shared/clientIp';

describe('the client of a request as n8n received it', () => {
	it('N8N_PROXY_HOPS: a positive whole number, else 0 (no proxy trusted)', () => {
		expect(proxyHops({})).toBe(0);
		expect(proxyHops({ N8N_PROXY_HOPS: '1' })).toBe(1);
		expect(proxyHops({ N8N_PROXY_HOPS: '2' })).toBe(2);
		for (const bad of ['', ' ', '-1', '1.5', 'one', '0'])
			expect(proxyHops({ N8N_PROXY_HOPS: bad })).toBe(0);
	});

	it('without a trusted proxy no header gives an IP: X-Forwarded-For is whatever the caller wrote', () => {
		expect(
			clientFromHeaders({ 'x-forwarded-for': '203.0.113.9', 'user-agent': 'Firefox' }, 0),
		).toEqual({ userAgent: 'Firefox' });
	});

	it('one proxy: the entry it appended (the rightmost); what the caller wrote before it is ignored', () => {
		expect(clientFromHeaders({ 'x-forwarded-for': '203.0.113.9' }, 1)).toEqual({
			ip: '203.0.113.9',
		});
		expect(clientFromHeaders({ 'x-forwarded-for': '6.6.6.6, 7.7.7.7,203.0.113.9' }, 1)).toEqual({
			ip: '203.0.113.9',
		});
		// Two proxies (a CDN, then nginx): the second entry from the right, as Express computes req.ip.
		expect(clientFromHeaders({ 'x-forwarded-for': '6.6.6.6, 198.51.100.4, 10.0.0.2' }, 2)).toEqual({
			ip: '198.51.100.4',
		});
		// Fewer entries than hops: the leftmost, as Express does.
		expect(clientFromHeaders({ 'x-forwarded-for': '198.51.100.4' }, 3)).toEqual({
			ip: '198.51.100.4',
		});
	});

	it('IPv6, a port, an IPv4-mapped address; anything that is not an address gives no IP', () => {
		expect(clientFromHeaders({ 'x-forwarded-for': '2001:db8::1' }, 1)).toEqual({
			ip: '2001:db8::1',
		});
		expect(clientFromHeaders({ 'x-forwarded-for': '[2001:db8::1]:4711' }, 1)).toEqual({
			ip: '2001:db8::1',
		});
		expect(clientFromHeaders({ 'x-forwarded-for': '203.0.113.9:4711' }, 1)).toEqual({
			ip: '203.0.113.9',
		});
		expect(clientFromHeaders({ 'x-forwarded-for': '::ffff:203.0.113.9' }, 1)).toEqual({
			ip: '203.0.113.9',
		});
		expect(clientFromHeaders({ 'x-forwarded-for': 'unknown' }, 1)).toEqual({});
		expect(
			clientFromHeaders({ 'X-Forwarded-For': '203.0.113.9', 'User-Agent': 'Safari' }, 1),
		).toEqual({ ip: '203.0.113.9', userAgent: 'Safari' });
		expect(clientFromHeaders(undefined, 1)).toEqual({});
		expect(clientFromHeaders('x-forwarded-for: 1.2.3.4', 1)).toEqual({});
	});
});
