/* Sign-up from a public web request: the body is data, not identity. The referrer comes only from
 * the code, the time is the server's, the IP is what the trusted proxy saw (N8N_PROXY_HOPS) and the
 * user agent is the request's header; referrerId, signedUpAt, ip and userAgent in the item are ignored. */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeAllLedgers, openLedger } from '../../engine/ledger';
import { runWorkflow, singleNodeWorkflow } from '../harness';

type Json = Record<string, any>;

describe('Referral sign-up from a public web request', () => {
	const ledgerPath = path.join(
		mkdtempSync(path.join(os.tmpdir(), 'rm-public-signup-')),
		'ledger.sqlite',
	);
	const credential = { backend: 'sqlite', path: ledgerPath };
	const json = async (parameters: Record<string, unknown>, items: Json[]) =>
		(
			await runWorkflow(
				singleNodeWorkflow(
					{
						type: 'referral',
						parameters: { program: 'web', ...parameters },
						credentials: { referralLedgerApi: { id: '1', name: 'Ledger' } },
					} as never,
					items,
				),
				{ credentials: { referralLedgerApi: credential as never } },
			)
		).json('Node') as Json[];
	const enrolPublic = (items: Json[]) =>
		json({ resource: 'participant', operation: 'enrol', caller: 'public' }, items);
	const request = (xff: string, userAgent = 'Firefox 128') => ({
		'x-forwarded-for': xff,
		'user-agent': userAgent,
		host: 'n8n.example',
	});
	let hops: string | undefined;

	beforeEach(() => {
		hops = process.env.N8N_PROXY_HOPS;
		process.env.N8N_PROXY_HOPS = '1';
	});
	afterEach(() => {
		if (hops === undefined) delete process.env.N8N_PROXY_HOPS;
		else process.env.N8N_PROXY_HOPS = hops;
	});
	afterAll(async () => {
		await closeAllLedgers();
	});

	it('ignores referrerId, signedUpAt, ip and userAgent in the body; takes IP and user agent from the request', async () => {
		await json(
			{ resource: 'program', operation: 'save', share: { baseUrl: 'https://shop.example/join' } },
			[{}],
		);
		const [ann] = await enrolPublic([
			{ email: 'ann@web.example', headers: request('198.51.100.7') },
		]);
		const [eve] = await enrolPublic([
			{ email: 'eve@web.example', headers: request('203.0.113.66') },
		]);
		// An invented referrer id, no code: no referral at all.
		const [nocode] = await enrolPublic([
			{ email: 'nick@web.example', referrerId: ann.participant.id, headers: request('192.0.2.1') },
		]);
		expect(nocode.referral).toBeNull();
		// The body claims Ann's IP and an old date, and names Eve as referrer while the code is Ann's:
		// the referral is Ann's, dated now, from the proxy's IP (not Ann's), so no same_ip.
		const before = Date.now();
		const [bob] = await enrolPublic([
			{
				email: 'bob@web.example',
				referralCode: ann.participant.code,
				referrerId: eve.participant.id,
				ip: '198.51.100.7',
				userAgent: 'x',
				signedUpAt: '2020-01-01T00:00:00Z',
				headers: request('192.0.2.50'),
			},
		]);
		expect(bob.referral).toMatchObject({ status: 'pending' });
		const ledger = await openLedger({ backend: 'sqlite', path: ledgerPath });
		const stored = await ledger.getReferral({ programId: 'web', id: bob.referral.id });
		expect(stored).toMatchObject({ referrerId: ann.participant.id });
		expect(stored!.touchedAt).toBeGreaterThanOrEqual(before - 1000);
		// What the caller put before the proxy's entry is ignored too; the proxy's entry is Ann's IP: same_ip.
		const [cal] = await enrolPublic([
			{
				email: 'cal@web.example',
				referralCode: ann.participant.code,
				ip: '192.0.2.99',
				headers: request('6.6.6.6, 198.51.100.7'),
			},
		]);
		expect(cal.referral).toMatchObject({ status: 'flagged', reasons: ['same_ip'] });
	});

	it('a trusted system (the default) still maps every field, for server-side callers', async () => {
		const [dan] = await json({ resource: 'participant', operation: 'enrol' }, [
			{ email: 'dan@web.example', ip: '198.51.100.80' },
		]);
		const [dee] = await json({ resource: 'participant', operation: 'enrol' }, [
			{ email: 'dee@web.example', referralCode: dan.participant.code, ip: '198.51.100.80' },
		]);
		expect(dee.referral).toMatchObject({ status: 'flagged', reasons: ['same_ip'] });
	});
});
