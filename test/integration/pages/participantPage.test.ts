/* The participant page from a real SQLite ledger (engine/pages/participant.ts): what Ann's private
 * link shows (code, link, QR, share links with the program's texts, progress, rewards, referrals),
 * that it shows nobody else's personal data (first names and masked emails only), and that bad
 * links get the same 404 page naming nobody. */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { create } from 'qrcode';
import { afterAll, describe, expect, it } from 'vitest';
import { closeAllLedgers, openLedger, type LedgerStore } from '../../../engine/ledger';
import {
	loadParticipantPage,
	personLabel,
	renderNotFoundPage,
	renderParticipantPage,
} from '../../../engine/pages/participant';
import { qrSvg } from '../../../engine/pages/qr';
import { participantLink } from '../../../engine/shared/links';
import { LANDING, PORTAL_PROGRAM, seedPortal } from '../../support/portalSeed';

const SECRETS = { secret: 'portal-page-test-secret-0123456789abcdef' };
const DAY = 24 * 60 * 60 * 1000;

afterAll(async () => {
	await closeAllLedgers();
});

async function freshLedger(): Promise<LedgerStore> {
	const dir = mkdtempSync(path.join(os.tmpdir(), 'rm-portal-'));
	return await openLedger({ backend: 'sqlite', path: path.join(dir, 'ledger.sqlite') });
}

function tokenFor(participantId: number, options: { now?: number; programId?: string } = {}) {
	return participantLink({
		baseUrl: 'https://n8n.example.com/webhook/referral/page',
		programId: options.programId ?? PORTAL_PROGRAM,
		participantId,
		secrets: SECRETS,
		now: options.now,
	}).token;
}

/** The page's visible text and attributes, without the inline style and script. */
function content(html: string): string {
	return html.replace(/<style>[\s\S]*?<\/style>/, '').replace(/<script>[\s\S]*?<\/script>/, '');
}

describe('participant page', () => {
	it("shows Ann's code, link, QR code, share links, progress, rewards and referrals", async () => {
		const ledger = await freshLedger();
		const seed = await seedPortal(ledger);
		const { model } = await loadParticipantPage(ledger, tokenFor(seed.annId), {
			programId: PORTAL_PROGRAM,
			secrets: SECRETS,
			milestones: [1, 3, 10],
		});
		expect(model).not.toBeNull();
		expect(model!).toMatchObject({
			programName: 'Acme Friends',
			greetingName: 'Ann Smith',
			code: seed.annCode,
			referrals: 3,
			qualified: 1,
			points: 150,
			tier: 'Bronze',
			badges: ['First Friend'],
			rank: 1,
			milestone: { target: 3, previous: 1 },
			nextTier: { name: 'Silver', min: 3, metric: 'qualified_referrals' },
			moreReferrals: 0,
		});
		expect(model!.referralList.map((r) => [r.person, r.status])).toEqual([
			[{ kind: 'erased' }, 'pending'],
			[{ kind: 'email', value: 'c••@example.net' }, 'pending'],
			[{ kind: 'name', value: 'Bob' }, 'qualified'],
		]);
		// Joined: the sign-up day (10, 5 and 3 days ago), not the day the row was written.
		expect(model!.referralList.map((r) => Math.round((Date.now() - r.at) / DAY))).toEqual([
			3, 5, 10,
		]);
		expect(model!.rewards.map((r) => [r.kind, r.status, r.amount])).toEqual([
			['points', 'approved', 150],
			['coupon', 'pending', 10],
		]);

		const page = renderParticipantPage(model!, { acceptLanguage: 'en-US,en;q=0.9' });
		expect(page.statusCode).toBe(200);
		expect(page.locale).toBe('en');
		const text = content(page.html);
		expect(text).toContain('Hello Ann Smith!');
		expect(text).toContain(`value="${seed.annCode}"`);
		const shareUrl = `${LANDING}?ref=${seed.annCode}&amp;utm_source=referral-program`;
		expect(text).toContain(`value="${shareUrl}"`);
		expect(text).toContain('<svg xmlns="http://www.w3.org/2000/svg" class="qr" role="img"');
		// Share links carry the built-in English text with the code and the link.
		const shared = encodeURIComponent(
			`Join me at Acme Friends! Use my code ${seed.annCode}: ${LANDING}?ref=${seed.annCode}&utm_source=referral-program`,
		);
		expect(text).toContain(`href="https://wa.me/?text=${shared}"`);
		expect(text).toContain(
			`href="mailto:?subject=An%20invitation%20to%20Acme%20Friends&amp;body=${shared}"`,
		);
		expect(text).toContain(`href="sms:?&amp;body=${shared}"`);
		expect(text).toContain(`href="https://x.com/intent/post?text=${shared}"`);
		expect(text).toContain('href="https://www.linkedin.com/sharing/share-offsite/?url=');
		expect(text).toContain('href="https://www.facebook.com/sharer/sharer.php?u=');
		expect(text).toContain('Next milestone: 3 qualified referrals');
		expect(text).toContain('2 more qualified referrals to go.');
		expect(text).toContain('<progress id="milestone" max="2" value="0">');
		expect(text).toContain('Next tier: Silver');
		expect(text).toContain('<progress id="tier" max="3" value="1">');
		expect(text).toContain('<li>First Friend</li>');
		expect(text).toContain('No. 1');
		expect(text).toContain('150 points');
		expect(text).toContain('Coupon worth €10.00');
		expect(text).toMatch(/pending<\/span> \(available from [A-Z][a-z]{2} \d{1,2}, \d{4}\)/);
		expect(text).toContain('<td>Bob</td>');
		expect(text).toContain('<td>c••@example.net</td>');
		expect(text).toContain('<td>Deleted account</td>');
		expect(text).toContain('<span class="status status-qualified">qualified</span>');
		// Landmarks, labels, one h1.
		expect(text).toMatch(/<header>[\s\S]*<main id="main"[\s\S]*<footer>/);
		expect(text.match(/<h1>/g)).toHaveLength(1);
		expect(text).toContain('<label for="ref-code">');
		expect(text).toContain('<label for="ref-link">');
	});

	it("names nobody else: no other person's email, surname, phone, code or id", async () => {
		const ledger = await freshLedger();
		const seed = await seedPortal(ledger);
		const { model } = await loadParticipantPage(ledger, tokenFor(seed.annId), {
			programId: PORTAL_PROGRAM,
			secrets: SECRETS,
		});
		for (const locale of ['en', 'de']) {
			const page = renderParticipantPage(model!, { acceptLanguage: locale });
			for (const secret of seed.secrets)
				expect(page.html.toLowerCase(), `${locale}: ${secret}`).not.toContain(secret.toLowerCase());
		}
		// The model itself carries no other person's record: only labels and statuses.
		expect(JSON.stringify(model!.referralList)).not.toMatch(/@example\.(org|com)|Jones|\bid\b/);
	});

	it('a referral list is capped, newest first, and says how many more there are', async () => {
		const ledger = await freshLedger();
		const seed = await seedPortal(ledger);
		const { model } = await loadParticipantPage(ledger, tokenFor(seed.annId), {
			programId: PORTAL_PROGRAM,
			secrets: SECRETS,
			maxReferrals: 1,
		});
		expect(model!.referralList).toHaveLength(1);
		expect(model!.moreReferrals).toBe(2);
		expect(renderParticipantPage(model!).html).toContain('and 2 more referrals.');
	});

	it("renders in German from the program's locale, with the program's German share text", async () => {
		const ledger = await freshLedger();
		const seed = await seedPortal(ledger, {
			locale: 'de',
			shareTexts: { en: 'Shop with {code}', de: 'Spare 10 % mit meinem Code {code}: {link}' },
		});
		const { model } = await loadParticipantPage(ledger, tokenFor(seed.annId), {
			programId: PORTAL_PROGRAM,
			secrets: SECRETS,
		});
		const page = renderParticipantPage(model!, { acceptLanguage: 'en-US' });
		expect(page.locale).toBe('de');
		expect(page.html).toContain('<html lang="de">');
		expect(page.html).toContain('Hallo Ann Smith!');
		expect(page.html).toContain('Dein Empfehlungscode');
		expect(page.html).toContain('Code kopieren');
		expect(page.html).toContain('150 Punkte');
		expect(page.html).toContain('qualifiziert');
		expect(page.html).toContain(
			encodeURIComponent(`Spare 10 % mit meinem Code ${seed.annCode}: ${LANDING}?ref=`),
		);
		expect(page.html).not.toContain('Hello');
	});

	it('an English share text without {link} gets the link appended', async () => {
		const ledger = await freshLedger();
		const seed = await seedPortal(ledger, { shareTexts: { en: 'Shop with {code}' } });
		const { model } = await loadParticipantPage(ledger, tokenFor(seed.annId), {
			programId: PORTAL_PROGRAM,
			secrets: SECRETS,
		});
		const page = renderParticipantPage(model!);
		expect(page.html).toContain(
			`https://wa.me/?text=${encodeURIComponent(`Shop with ${seed.annCode} ${LANDING}?ref=${seed.annCode}&utm_source=referral-program`)}`,
		);
	});

	it('forged, altered, expired, other-program and erased-participant links give no model', async () => {
		const ledger = await freshLedger();
		const seed = await seedPortal(ledger);
		const good = tokenFor(seed.annId);
		const [payload, signature] = good.split('.');
		const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
		const bad = [
			'',
			'not-a-token',
			`${Buffer.from(JSON.stringify({ ...claims, pid: seed.annId + 1 })).toString('base64url')}.${signature}`,
			`${payload}.${signature.slice(0, -2)}xx`,
			tokenFor(seed.annId, { now: Date.now() - 31 * DAY }),
			tokenFor(seed.annId, { programId: 'other' }),
			undefined,
		];
		for (const token of bad) {
			const result = await loadParticipantPage(ledger, token, {
				programId: PORTAL_PROGRAM,
				secrets: SECRETS,
			});
			expect(result.model, String(token)).toBeNull();
		}
		const service = await (
			await import('../../../engine/referrals')
		).ReferralService.open(ledger, PORTAL_PROGRAM);
		await service.eraseParticipant({ participantId: seed.annId });
		expect(
			(await loadParticipantPage(ledger, good, { programId: PORTAL_PROGRAM, secrets: SECRETS }))
				.model,
		).toBeNull();
	});

	it('the not-found page is 404, names nobody, and follows the language', () => {
		const en = renderNotFoundPage({ acceptLanguage: 'en' });
		expect(en.statusCode).toBe(404);
		expect(en.html).toContain('This link is not valid or has expired');
		const de = renderNotFoundPage({ acceptLanguage: 'en', programLocale: 'de' });
		expect(de.html).toContain('Dieser Link ist ungültig oder abgelaufen');
		expect(content(de.html)).not.toMatch(/@|<script/);
	});

	it('people are labelled by first name or masked email only', () => {
		const base = {
			id: 9,
			programId: 'p',
			externalId: 'ext-9',
			phone: '+491',
			metadata: {},
			erasedAt: null,
			createdAt: 0,
			updatedAt: 0,
		};
		expect(personLabel({ ...base, name: 'Zoë Müller', email: 'z@x.de' })).toEqual({
			kind: 'name',
			value: 'Zoë',
		});
		expect(personLabel({ ...base, name: null, email: 'zoe@x.de' })).toEqual({
			kind: 'email',
			value: 'z••@x.de',
		});
		// A "name" that is not plainly a name (a URL, markup) is not shown.
		expect(personLabel({ ...base, name: 'http://spam.example', email: 'zoe@x.de' })).toEqual({
			kind: 'email',
			value: 'z••@x.de',
		});
		expect(personLabel({ ...base, name: null, email: null })).toEqual({ kind: 'unnamed' });
		expect(personLabel({ ...base, name: null, email: null, erasedAt: 1 })).toEqual({
			kind: 'erased',
		});
	});
});

describe('QR code', () => {
	it('is a well-formed SVG whose dark modules are exactly the encoder matrix', () => {
		const text = 'https://shop.example.com/join?ref=K7Q-ABCD';
		const svg = qrSvg(text, { title: 'QR <code>' });
		expect(svg).toMatch(
			/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]* viewBox="0 0 (\d+) \1"/,
		);
		expect(svg).toContain('<title>QR &lt;code&gt;</title>');
		expect(svg).toContain('aria-label="QR &lt;code&gt;"');
		expect(svg.endsWith('</svg>')).toBe(true);
		// Rebuild the matrix from the path and compare with the encoder's, module by module.
		const qr = create(text, { errorCorrectionLevel: 'M' });
		const n = qr.modules.size;
		const size = Number(/viewBox="0 0 (\d+)/.exec(svg)![1]);
		expect(size).toBe(n + 8);
		const drawn = new Set<string>();
		const d = /<path fill="#000000" d="([^"]+)"/.exec(svg)![1];
		for (const m of d.matchAll(/M(\d+) (\d+)h(\d+)v1h-\3z/g)) {
			const [x, y, w] = [Number(m[1]), Number(m[2]), Number(m[3])];
			for (let i = 0; i < w; i++) drawn.add(`${y - 4},${x - 4 + i}`);
		}
		expect(d.replace(/M(\d+) (\d+)h(\d+)v1h-\3z/g, '')).toBe('');
		let dark = 0;
		for (let r = 0; r < n; r++)
			for (let c = 0; c < n; c++) {
				const on = Boolean(qr.modules.get(r, c));
				if (on) dark++;
				expect(drawn.has(`${r},${c}`), `${r},${c}`).toBe(on);
			}
		expect(drawn.size).toBe(dark);
		// Finder pattern: the top-left 7×7 ring is dark.
		for (let i = 0; i < 7; i++) expect(drawn.has(`0,${i}`) && drawn.has(`${i},0`)).toBe(true);
	});
});
