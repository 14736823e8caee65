/* Referral Portal › Participant Page in the in-process harness (the built node, real SQLite): the
 * private link from Participant › Get Private Link opens the participant's HTML page with the
 * headers Respond to Webhook sends; a bad or missing link answers the same 404 page; Values mode
 * reads the token itself; bad parameters fail the item naming the parameter. */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeAllLedgers, openLedger } from '../../engine/ledger';
import { participantLink } from '../../engine/shared/links';
import { runWorkflow, singleNodeWorkflow } from '../harness';
import { PORTAL_PROGRAM, seedPortal } from '../support/portalSeed';

afterAll(async () => {
	await closeAllLedgers();
});

type Json = Record<string, any>;
const SECRET = 'portal-node-test-secret-0123456789abcdef';

async function setUp(options: Parameters<typeof seedPortal>[1] = {}) {
	const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'rm-portal-node-')), 'ledger.sqlite');
	const ledger = await openLedger({ backend: 'sqlite', path: file });
	const seed = await seedPortal(ledger, options);
	const token = participantLink({
		baseUrl: 'https://n8n.example.com/webhook/referral/page',
		programId: PORTAL_PROGRAM,
		participantId: seed.annId,
		secrets: { secret: SECRET },
	}).token;
	const run = async (
		parameters: Json,
		items: Json[],
		continueOnFail = false,
		type = 'referralPortal',
	) =>
		await runWorkflow(
			singleNodeWorkflow(
				{
					type,
					parameters:
						type === 'referralPortal'
							? { operation: 'participantPage', program: PORTAL_PROGRAM, ...parameters }
							: { program: PORTAL_PROGRAM, ...parameters },
					continueOnFail,
					credentials: {
						referralLedgerApi: { id: '1', name: 'Ledger' },
						referralLinkSecretApi: { id: '2', name: 'Referral Link Secret' },
					},
				} as never,
				items,
			),
			{
				credentials: {
					referralLedgerApi: { backend: 'sqlite', path: file },
					referralLinkSecretApi: { secret: SECRET, previousSecret: '' },
				} as never,
			},
		);
	return { seed, token, run };
}

describe('Referral Portal › Participant Page', () => {
	it('answers the page, its status code and headers for each item, paired with its input', async () => {
		const { seed, token, run } = await setUp();
		const result = await run({ milestones: '1, 3, 10' }, [
			{ query: { token }, headers: { 'accept-language': 'de-DE,de;q=0.9' } },
			{ query: { token: `${token}x` }, headers: { 'accept-language': 'en' } },
			{ query: {}, headers: {} },
		]);
		const [ann, forged, missing] = result.json('Node') as Json[];
		expect(Object.keys(ann).sort()).toEqual(['found', 'headers', 'html', 'locale', 'statusCode']);
		expect(ann).toMatchObject({ statusCode: 200, locale: 'de', found: true });
		expect(ann.headers).toMatchObject({
			'Content-Type': 'text/html; charset=utf-8',
			'Cache-Control': 'no-store',
		});
		expect(ann.headers['Content-Security-Policy']).toMatch(
			/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; img-src data:; script-src 'sha256-[A-Za-z0-9+/=]+';/,
		);
		expect(ann.html).toContain('Hallo Ann Smith!');
		expect(ann.html).toContain(`value="${seed.annCode}"`);
		expect(ann.html).toContain('Nächster Meilenstein: 3 qualifizierte Empfehlungen');
		for (const secret of seed.secrets) expect(ann.html).not.toContain(secret);
		for (const bad of [forged, missing]) {
			expect(bad).toMatchObject({ statusCode: 404, found: false });
			expect(bad.html).not.toContain(seed.annCode);
			expect(bad.html).not.toContain('Ann');
		}
		expect(forged.html).toContain('This link is not valid or has expired');
		expect(forged.html).toBe(missing.html);
		const paired = result.items('Node').map((i) => i.pairedItem);
		expect(paired).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
	});

	it('replays answer alike: the same token renders the same page', async () => {
		const { token, run } = await setUp();
		const items = [{ query: { token }, headers: {} }];
		const first = (await run({}, items)).json('Node')[0] as Json;
		const second = (await run({}, items)).json('Node')[0] as Json;
		expect(second).toEqual(first);
	});

	it('reads the token and Accept-Language from a path parameter or from Values', async () => {
		const { token, run } = await setUp();
		const [byPath] = (
			await run({ linkField: 'params.token' }, [{ params: { token }, headers: {} }])
		).json('Node') as Json[];
		expect(byPath).toMatchObject({ statusCode: 200, locale: 'en' });
		const [byValue] = (
			await run({ inputSource: 'values', token, acceptLanguage: 'de' }, [{ unrelated: true }])
		).json('Node') as Json[];
		expect(byValue).toMatchObject({ statusCode: 200, locale: 'de' });
	});

	it("the program's Page Language wins over the browser's", async () => {
		const { token, run } = await setUp({ locale: 'de' });
		const [page] = (
			await run({}, [{ query: { token }, headers: { 'accept-language': 'en-US' } }])
		).json('Node') as Json[];
		expect(page.locale).toBe('de');
		const [notFound] = (
			await run({}, [{ query: { token: 'nope' }, headers: { 'accept-language': 'en-US' } }])
		).json('Node') as Json[];
		expect(notFound).toMatchObject({ statusCode: 404, locale: 'de' });
		expect(notFound.html).toContain('Dieser Link ist ungültig');
	});

	it('bad parameters fail the item naming the parameter; Continue On Fail keeps going', async () => {
		const { token, run } = await setUp();
		const stopped = await run({ milestones: '1, two' }, [{ query: { token } }]);
		expect(stopped.error('Node')?.message).toMatch(/Milestones must be whole numbers.*"two"/);
		const result = await run({ options: { timeZone: 'Mars/Base' } }, [{ query: { token } }], true);
		const [failed] = result.json('Node') as Json[];
		expect(failed.error.message).toMatch(/Time Zone must be an IANA zone/);
		expect(JSON.stringify(failed)).not.toContain('Ann');
	});

	it('Program › Create or Update keeps Page Language and Share Texts, and the page uses them', async () => {
		const { seed, token, run } = await setUp();
		const save = async (extra: Json) =>
			await run(
				{
					resource: 'program',
					operation: 'save',
					share: { baseUrl: 'https://shop.example.com/join' },
					...extra,
				},
				[{}],
				true,
				'referral',
			);
		const saved = (
			await save({
				locale: 'de',
				shareTexts: { text: [{ locale: 'DE', text: 'Spare mit {code} bei {program}' }] },
			})
		).json('Node')[0] as Json;
		expect(saved.program).toMatchObject({
			locale: 'de',
			shareTexts: { de: 'Spare mit {code} bei {program}' },
		});
		const [page] = (
			await run({}, [{ query: { token }, headers: { 'accept-language': 'en' } }])
		).json('Node') as Json[];
		expect(page.locale).toBe('de');
		expect(page.html).toContain(
			encodeURIComponent(
				`Spare mit ${seed.annCode} bei ${PORTAL_PROGRAM} https://shop.example.com/join?ref=`,
			),
		);
		const bad = (
			await save({ shareTexts: { text: [{ locale: 'not a language', text: 'x' }] } })
		).json('Node')[0] as Json;
		expect(bad.error.message).toMatch(/must be a language tag such as en, de or de-AT/);
	});
});
