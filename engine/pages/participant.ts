import type { LedgerStore, ParticipantRecord, RewardRecord } from '../ledger/store';
import {
	fillShareText,
	parseReferralStatus,
	publicStatus,
	ReferralService,
	SHARE_CHANNELS,
	socialShareLinks,
	type PublicReferralStatus,
} from '../referrals';
import { isEngineError } from '../shared/errors';
import { type LinkSecrets, maskAddress } from '../shared/links';
import { greetingName } from '../shared/plainText';
import type { StandingSnapshot } from '../rewards';
import { markup, pageShell, raw, type SafeHtml, type ShellOutput } from './html';
import { formatDate, formatMoney, formatNumber, pageLocale, t, type MessageKey } from './i18n';
import { qrSvg } from './qr';

/**
 * The participant page (issue #17): what the holder of a private link (the one the welcome email
 * carries) sees about themselves: code and link with copy buttons, a QR code, share buttons with the
 * program's texts, progress to the next milestone and tier, rewards earned and pending, points,
 * badges, rank and their referrals. Other people appear only as a first name or a masked email with
 * a status: nothing else of theirs (no full email, no id, no dates but the join day).
 *
 * `loadParticipantPage` reads the ledger, `renderParticipantPage` makes the HTML from that model
 * alone (so tests can render any state), `renderNotFoundPage` is the answer for a bad link: it names
 * nobody and looks the same for forged, expired and unknown links.
 */

/** How a referred friend is shown: never more than a first name or a masked address. */
export type PersonLabel =
	| { kind: 'name'; value: string }
	| { kind: 'email'; value: string }
	| { kind: 'erased' }
	| { kind: 'unnamed' };

export interface PageReferral {
	person: PersonLabel;
	status: PublicReferralStatus;
	/** When the friend signed up through the link (the referral's touch time, ms). */
	at: number;
}

export interface PageReward {
	kind: RewardRecord['kind'];
	status: 'pending' | 'approved' | 'fulfilled';
	amount: number | null;
	currency: string | null;
	percentOff: number | null;
	/** Badge, tier or custom reward name. */
	name: string | null;
	/** When it was earned (ms). */
	at: number;
	/** Pending rewards on hold: when they become available (ms). */
	holdUntil: number | null;
}

export interface ParticipantPageModel {
	programName: string;
	/** The program's page language setting; null: the visitor's Accept-Language. */
	programLocale: string | null;
	/** The program's share texts by language. */
	shareTexts: Record<string, string>;
	greetingName: string | null;
	code: string | null;
	shareUrl: string | null;
	referrals: number;
	qualified: number;
	points: number;
	tier: string | null;
	badges: string[];
	rank: number | null;
	/** Next milestone (qualified referrals), `done` when all are reached, null when the page has none. */
	milestone: { target: number; previous: number } | 'done' | null;
	/** The next tier of the ladder the held tier came from; `top` when it is the highest; null when unknown. */
	nextTier: { name: string; min: number; metric: 'qualified_referrals' | 'points' } | 'top' | null;
	rewards: PageReward[];
	/** Newest first, at most `maxReferrals`. */
	referralList: PageReferral[];
	/** Referrals not listed (beyond `maxReferrals`). */
	moreReferrals: number;
	/** When the private link stops working (ISO 8601). */
	linkExpiresAt: string;
}

export interface LoadOptions {
	programId: string;
	secrets: LinkSecrets;
	/** Milestones in qualified referrals (e.g. [1, 5, 10]) for the progress bar; none: no milestone bar. */
	milestones?: number[];
	/** Most referrals listed (default 50, newest first). */
	maxReferrals?: number;
	now?: number;
}

/** Link errors that answer the not-found page: the holder learns nothing more. */
const NOT_FOUND_CODES = new Set(['invalid_link', 'unknown_participant']);

/**
 * The page model for a private-link token; `model` null when the link is missing, forged, changed,
 * expired, of another program, or its participant is gone or erased (then `programLocale` still
 * gives the not-found page its language). Other errors (a ledger that is down) throw.
 */
export async function loadParticipantPage(
	ledger: LedgerStore,
	token: unknown,
	options: LoadOptions,
): Promise<{ model: ParticipantPageModel | null; programLocale: string | null }> {
	const service = await ReferralService.open(ledger, options.programId);
	const programLocale = service.program.config.locale;
	const notFound = { model: null, programLocale };
	if (typeof token !== 'string' || token.trim() === '') return notFound;
	let found: Awaited<ReturnType<ReferralService['getParticipantByLink']>>;
	try {
		found = await service.getParticipantByLink(token, {
			secrets: options.secrets,
			now: options.now,
		});
	} catch (error) {
		if (isEngineError(error) && NOT_FOUND_CODES.has(error.code)) return notFound;
		throw error;
	}
	const { participant, stats, link } = found;
	const programId = options.programId;
	const record = await ledger.getParticipant({ programId, id: participant.id });
	if (!record || record.erasedAt !== null) return notFound;
	const [rewardRows, referralRows] = await Promise.all([
		ledger.listRewards({ programId, recipientId: participant.id, limit: 10_000 }),
		ledger.listReferrals({ programId, referrerId: participant.id, limit: 10_000 }),
	]);
	const max = Math.max(0, Math.floor(options.maxReferrals ?? 50));
	const newest = [...referralRows].sort((a, b) => b.touchedAt - a.touchedAt || b.id - a.id);
	const shown = newest.slice(0, max);
	const people = await Promise.all(
		shown.map(async (r) =>
			r.refereeId === null ? null : await ledger.getParticipant({ programId, id: r.refereeId }),
		),
	);
	const config = service.program.config;
	const held = rewardRows.filter((r) => r.status !== 'reversed');
	const model: ParticipantPageModel = {
		programName: config.name,
		programLocale: config.locale,
		shareTexts: config.shareTexts,
		greetingName: participant.greetingName,
		code: participant.code,
		shareUrl: participant.shareUrl,
		referrals: stats.referrals,
		qualified: stats.qualified,
		points: stats.points,
		tier: stats.tier,
		badges: [...new Set(stats.badges)],
		rank: stats.rank,
		milestone: nextMilestone(options.milestones, stats.qualified),
		nextTier: nextTier(held, stats),
		rewards: held.filter((r) => r.kind !== 'badge' && r.kind !== 'tier').map((r) => pageReward(r)),
		referralList: shown.map((r, i) => ({
			person: personLabel(people[i]),
			status: publicStatus(parseReferralStatus(r.status)),
			at: r.touchedAt,
		})),
		moreReferrals: newest.length - shown.length,
		linkExpiresAt: link.expiresAt,
	};
	return { model, programLocale };
}

/** A friend as the page shows them: their first name, else their masked email; nothing else. */
export function personLabel(p: ParticipantRecord | null): PersonLabel {
	if (!p) return { kind: 'unnamed' };
	if (p.erasedAt !== null) return { kind: 'erased' };
	const first = greetingName(p.name)?.split(/\s+/)[0];
	if (first) return { kind: 'name', value: first };
	if (p.email) return { kind: 'email', value: maskAddress(p.email) };
	return { kind: 'unnamed' };
}

function nextMilestone(
	milestones: number[] | undefined,
	qualified: number,
): ParticipantPageModel['milestone'] {
	const list = [...new Set((milestones ?? []).filter((m) => Number.isFinite(m) && m > 0))].sort(
		(a, b) => a - b,
	);
	if (list.length === 0) return null;
	const target = list.find((m) => m > qualified);
	if (target === undefined) return 'done';
	return { target, previous: [...list].reverse().find((m) => m <= qualified) ?? 0 };
}

function nextTier(
	held: RewardRecord[],
	stats: { qualified: number; points: number },
): ParticipantPageModel['nextTier'] {
	const tier = held.filter((r) => r.kind === 'tier').at(-1);
	const standing = tier?.metadata?.standing as StandingSnapshot | undefined;
	if (!standing?.ladder || standing.ladder.length === 0) return null;
	const value = standing.metric === 'points' ? stats.points : stats.qualified;
	const next = [...standing.ladder].sort((a, b) => a.min - b.min).find((l) => l.min > value);
	return next ? { name: next.name, min: next.min, metric: standing.metric } : 'top';
}

function pageReward(r: RewardRecord): PageReward {
	const m = r.metadata ?? {};
	const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
	return {
		kind: r.kind,
		status: r.status === 'reversed' ? 'pending' : r.status,
		amount: r.kind === 'points' ? (r.amount ?? (m.points as number) ?? 0) : r.amount,
		currency: r.currency,
		percentOff: typeof m.percentOff === 'number' ? m.percentOff : null,
		name: text(m.label) ?? text(m.badge) ?? text(m.tier) ?? text(m.customType) ?? r.rule,
		at: typeof m.earnedAt === 'number' ? m.earnedAt : r.createdAt,
		holdUntil: r.holdUntil,
	};
}

// ------------------------------------------------------------------------------------- rendering

export interface RenderOptions {
	/** The visitor's Accept-Language header (used when the program has no page language). */
	acceptLanguage?: unknown;
	/** Time zone of the dates (default UTC). */
	timeZone?: string;
}

export interface PageOutput extends ShellOutput {
	statusCode: number;
	locale: string;
}

const PAGE_STYLE = `
.code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:1.5rem;font-weight:700;letter-spacing:.08em;word-break:break-all}
.row{display:flex;gap:.5rem;align-items:stretch;flex-wrap:wrap}
.row input{flex:1 1 12rem}
.qr{display:block;width:100%;max-width:12rem;height:auto;border:1px solid var(--line);border-radius:.25rem}
.share{display:flex;flex-wrap:wrap;gap:.5rem;list-style:none;padding:0;margin:.5rem 0 0}
.share a{min-width:6.5rem}
.stats{display:grid;grid-template-columns:repeat(2,1fr);gap:.75rem;margin:0 0 1rem}
@media (min-width:36rem){.stats{grid-template-columns:repeat(4,1fr)}}
.stat{background:var(--bg);border:1px solid var(--line);border-radius:.5rem;padding:.5rem .75rem}
.stat dt{font-weight:400;color:var(--muted);font-size:.9rem}
.stat dd{font-size:1.4rem;font-weight:700}
.badges{display:flex;flex-wrap:wrap;gap:.5rem;list-style:none;padding:0;margin:0}
.badges li{border:1px solid var(--line);border-radius:999px;padding:.125rem .75rem;background:var(--bg)}
.status{font-weight:600}
.status-qualified,.status-fulfilled,.status-approved{color:var(--ok)}
.status-flagged,.status-pending{color:var(--warn)}
.status-rejected,.status-reversed{color:var(--bad)}
[role=status]{min-height:1.5rem}
`;

/**
 * Copy buttons and the native share sheet, and nothing else: reading the page needs no script.
 * Copies with the Clipboard API, else by selecting the field and execCommand('copy') (n8n serves
 * webhook pages in a sandbox where the Clipboard API may be refused).
 */
const PAGE_SCRIPT = `(function(){var live=document.getElementById('copy-status');function say(t){if(live){live.textContent='';setTimeout(function(){live.textContent=t},50)}}
function fallback(input){input.focus();input.select();try{return document.execCommand('copy')}catch(e){return false}}
document.querySelectorAll('button[data-copy]').forEach(function(b){b.hidden=false;b.addEventListener('click',function(){var input=document.getElementById(b.getAttribute('data-copy'));if(!input)return;var text=input.value;var done=function(){b.setAttribute('data-copied','true');say(b.getAttribute('data-done'))};var fail=function(){if(fallback(input))done();else say(b.getAttribute('data-fail'))};if(navigator.clipboard&&navigator.clipboard.writeText){navigator.clipboard.writeText(text).then(done,fail)}else fail()})});
var s=document.getElementById('share-native');if(s&&navigator.share){s.hidden=false;s.addEventListener('click',function(){navigator.share({title:s.getAttribute('data-title'),text:s.getAttribute('data-text'),url:s.getAttribute('data-url')}).catch(function(){})})}})();`;

function header(locale: string, title: string, subtitle: SafeHtml | string): SafeHtml {
	return markup`<a class="skip" href="#main">${t(locale, 'page.skip')}</a><header><h1>${title}</h1><p class="muted">${subtitle}</p></header>`;
}

function personText(locale: string, person: PersonLabel): string {
	switch (person.kind) {
		case 'name':
		case 'email':
			return person.value;
		case 'erased':
			return t(locale, 'participant.referrals.erased');
		case 'unnamed':
			return t(locale, 'participant.referrals.unnamed');
	}
}

function rewardText(locale: string, r: PageReward): string {
	switch (r.kind) {
		case 'points':
			return t(locale, 'participant.rewards.points', { count: r.amount ?? 0 });
		case 'cash':
			return t(locale, 'participant.rewards.cash', {
				value: formatMoney(locale, r.amount ?? 0, r.currency),
			});
		case 'coupon':
			if (r.amount !== null)
				return t(locale, 'participant.rewards.couponValue', {
					value: formatMoney(locale, r.amount, r.currency),
				});
			if (r.percentOff !== null)
				return t(locale, 'participant.rewards.couponPercent', { percent: r.percentOff });
			return t(locale, 'participant.rewards.coupon');
		case 'badge':
			return t(locale, 'participant.rewards.badge', { name: r.name ?? '' });
		case 'tier':
			return t(locale, 'participant.rewards.tier', { name: r.name ?? '' });
		case 'custom':
			return t(locale, 'participant.rewards.custom', { name: r.name ?? '' });
	}
}

function rewardTable(locale: string, rewards: PageReward[], zone: string, caption: string) {
	const rows = rewards.map((r) => {
		const status = t(locale, `participant.rewards.status.${r.status}`);
		const hold =
			r.status === 'pending' && r.holdUntil !== null
				? ` (${t(locale, 'participant.rewards.availableFrom', { date: formatDate(locale, r.holdUntil, zone) })})`
				: '';
		return markup`<tr><td>${rewardText(locale, r)}</td><td>${formatDate(locale, r.at, zone)}</td><td><span class="status status-${r.status}">${status}</span>${hold}</td></tr>`;
	});
	return markup`<table><caption class="visually-hidden">${caption}</caption><thead><tr><th scope="col">${t(locale, 'participant.rewards.reward')}</th><th scope="col">${t(locale, 'participant.rewards.date')}</th><th scope="col">${t(locale, 'participant.rewards.status')}</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function progressBar(id: string, label: string, value: number, min: number, max: number) {
	const span = Math.max(1, max - min);
	const done = Math.min(span, Math.max(0, value - min));
	const percent = Math.round((done / span) * 100);
	return markup`<label for="${id}">${label}</label><progress id="${id}" max="${span}" value="${done}">${percent} %</progress>`;
}

/** The participant page for a model (see {@link loadParticipantPage}). */
export function renderParticipantPage(
	model: ParticipantPageModel,
	options: RenderOptions = {},
): PageOutput {
	const locale = pageLocale({
		programLocale: model.programLocale,
		acceptLanguage: options.acceptLanguage,
	});
	const zone = options.timeZone ?? 'UTC';
	const program = model.programName;
	const title = t(locale, 'participant.title', { program });
	const hello = model.greetingName
		? t(locale, 'participant.hello', { name: model.greetingName })
		: t(locale, 'participant.helloAnonymous');
	const body = markup`${header(locale, title, t(locale, 'participant.intro', { program }))}<main id="main" tabindex="-1"><p><strong>${hello}</strong></p><div class="grid">
<section aria-labelledby="h-share" class="wide"><h2 id="h-share">${t(locale, 'participant.share.heading')}</h2>${shareSection(locale, model)}</section>
<section aria-labelledby="h-progress"><h2 id="h-progress">${t(locale, 'participant.progress.heading')}</h2>${progressSection(locale, model)}</section>
<section aria-labelledby="h-rewards"><h2 id="h-rewards">${t(locale, 'participant.rewards.heading')}</h2>${rewardsSection(locale, model, zone)}</section>
<section aria-labelledby="h-referrals" class="wide"><h2 id="h-referrals">${t(locale, 'participant.referrals.heading')}</h2>${referralsSection(locale, model, zone)}</section>
</div></main><footer><p class="muted">${t(locale, 'page.private')} ${validUntil(locale, model.linkExpiresAt, zone)}</p></footer>`;
	return {
		...pageShell({ lang: locale, title, body, style: PAGE_STYLE, script: PAGE_SCRIPT }),
		statusCode: 200,
		locale,
	};
}

function validUntil(locale: string, expiresAt: string, zone: string): string {
	const ms = Date.parse(expiresAt);
	return Number.isFinite(ms)
		? t(locale, 'page.validUntil', { date: formatDate(locale, ms, zone) })
		: '';
}

/** Code and link with copy buttons, share buttons and the QR code. */
function shareSection(locale: string, model: ParticipantPageModel): SafeHtml {
	const program = model.programName;
	const link = model.shareUrl;
	const code = model.code ?? '';
	const copyButton = (target: string, label: string) =>
		markup`<button type="button" class="secondary" data-copy="${target}" data-done="${t(locale, 'participant.copied')}" data-fail="${t(locale, 'participant.copyFailed')}" hidden>${label}</button>`;
	const codeBlock = model.code
		? markup`<label for="ref-code">${t(locale, 'participant.code')}</label><div class="row"><input type="text" id="ref-code" class="code" value="${code}" readonly>${copyButton('ref-code', t(locale, 'participant.copyCode'))}</div>`
		: '';
	const live = markup`<div role="status" id="copy-status" aria-live="polite"></div>`;
	if (!link) return markup`${codeBlock}<p>${t(locale, 'participant.noLink')}</p>${live}`;
	const template =
		model.shareTexts[locale] ??
		Object.entries(model.shareTexts).find(([tag]) => tag.split('-')[0] === locale)?.[1] ??
		t(locale, 'participant.share.text');
	const text = fillShareText(template, { code, link, program });
	const subject = t(locale, 'participant.share.subject', { program });
	const links = socialShareLinks({ url: link, text, subject });
	const newWindow = t(locale, 'participant.share.opensNew');
	const buttons = SHARE_CHANNELS.map((channel) => {
		const external = channel !== 'email' && channel !== 'sms';
		const label = t(locale, `participant.share.${channel}`);
		return external
			? markup`<li><a class="button" href="${links[channel]}" target="_blank" rel="noopener noreferrer">${label}<span class="visually-hidden"> ${newWindow}</span></a></li>`
			: markup`<li><a class="button" href="${links[channel]}">${label}</a></li>`;
	});
	const qr = raw(qrSvg(link, { title: t(locale, 'participant.qr') }));
	return markup`${codeBlock}<label for="ref-link">${t(locale, 'participant.link')}</label><div class="row"><input type="text" id="ref-link" value="${link}" readonly>${copyButton('ref-link', t(locale, 'participant.copyLink'))}</div>${live}
<div class="grid"><div><h3>${t(locale, 'participant.shareVia')}</h3><ul class="share">${buttons}<li><button type="button" id="share-native" data-title="${subject}" data-text="${text}" data-url="${link}" hidden>${t(locale, 'participant.shareNative')}</button></li></ul></div>
<figure>${qr}<figcaption class="muted">${t(locale, 'participant.qrHint')}</figcaption></figure></div>`;
}

/** Referrals, qualified, points, rank; the next milestone and tier; badges. */
function progressSection(locale: string, model: ParticipantPageModel): SafeHtml {
	const stat = (label: string, value: string) =>
		markup`<div class="stat"><dt>${label}</dt><dd>${value}</dd></div>`;
	const rank =
		model.rank === null
			? t(locale, 'participant.stats.noRank')
			: t(locale, 'participant.stats.rankValue', { rank: model.rank });
	const stats = markup`<dl class="stats">${[
		stat(t(locale, 'participant.stats.referrals'), formatNumber(locale, model.referrals)),
		stat(t(locale, 'participant.stats.qualified'), formatNumber(locale, model.qualified)),
		stat(t(locale, 'participant.stats.points'), formatNumber(locale, model.points)),
		stat(t(locale, 'participant.stats.rank'), rank),
	]}</dl>`;
	let milestone: SafeHtml | string = '';
	if (model.milestone === 'done')
		milestone = markup`<p>${t(locale, 'participant.milestone.done')}</p>`;
	else if (model.milestone) {
		const { target, previous } = model.milestone;
		const label = t(locale, 'participant.milestone.label');
		const toGo = t(locale, 'participant.milestone.toGo', { count: target - model.qualified });
		milestone = markup`<p>${t(locale, 'participant.milestone.next', { target })}</p>${progressBar('milestone', label, model.qualified, previous, target)}<p class="muted">${toGo}</p>`;
	}
	const tier = markup`<p><strong>${t(locale, 'participant.stats.tier')}:</strong> ${model.tier ?? t(locale, 'participant.stats.noTier')}</p>`;
	let next: SafeHtml | string = '';
	if (model.nextTier === 'top') next = markup`<p>${t(locale, 'participant.tier.top')}</p>`;
	else if (model.nextTier) {
		const { name, min, metric } = model.nextTier;
		const value = metric === 'points' ? model.points : model.qualified;
		const label = t(locale, 'participant.tier.label');
		const toGo = t(locale, `participant.tier.toGo.${metric}`, { count: Math.max(0, min - value) });
		next = markup`<p>${t(locale, 'participant.tier.next', { tier: name })}</p>${progressBar('tier', label, value, 0, min)}<p class="muted">${toGo}</p>`;
	}
	const badges =
		model.badges.length > 0
			? markup`<ul class="badges">${model.badges.map((b) => markup`<li>${b}</li>`)}</ul>`
			: markup`<p class="muted">${t(locale, 'participant.noBadges')}</p>`;
	return markup`${stats}${milestone}${tier}${next}<h3>${t(locale, 'participant.badges')}</h3>${badges}`;
}

/** Rewards earned (approved, fulfilled) and pending (with the day a hold ends). */
function rewardsSection(locale: string, model: ParticipantPageModel, zone: string): SafeHtml {
	if (model.rewards.length === 0)
		return markup`<p class="muted">${t(locale, 'participant.rewards.none')}</p>`;
	const part = (heading: string, rewards: PageReward[]) =>
		rewards.length === 0
			? ''
			: markup`<h3>${heading}</h3>${rewardTable(locale, rewards, zone, heading)}`;
	return markup`${part(
		t(locale, 'participant.rewards.earned'),
		model.rewards.filter((r) => r.status !== 'pending'),
	)}${part(
		t(locale, 'participant.rewards.pending'),
		model.rewards.filter((r) => r.status === 'pending'),
	)}`;
}

/** The referred friends: first name or masked email, the day they joined, the public status. */
function referralsSection(locale: string, model: ParticipantPageModel, zone: string): SafeHtml {
	if (model.referralList.length === 0)
		return markup`<p class="muted">${t(locale, 'participant.referrals.none')}</p>`;
	const rows = model.referralList.map((r) => {
		const status = t(locale, `participant.referrals.status.${r.status}` as MessageKey);
		return markup`<tr><td>${personText(locale, r.person)}</td><td>${formatDate(locale, r.at, zone)}</td><td><span class="status status-${r.status}">${status}</span></td></tr>`;
	});
	const more =
		model.moreReferrals > 0
			? markup`<p class="muted">${t(locale, 'participant.referrals.more', { count: model.moreReferrals })}</p>`
			: '';
	return markup`<table><caption class="visually-hidden">${t(locale, 'participant.referrals.heading')}</caption><thead><tr><th scope="col">${t(locale, 'participant.referrals.person')}</th><th scope="col">${t(locale, 'participant.referrals.date')}</th><th scope="col">${t(locale, 'participant.referrals.status')}</th></tr></thead><tbody>${rows}</tbody></table>${more}`;
}

/** The answer for a bad or expired link (status 404): the same page for every bad link, naming nobody. */
export function renderNotFoundPage(
	options: RenderOptions & { programLocale?: string | null } = {},
): PageOutput {
	const locale = pageLocale({
		programLocale: options.programLocale,
		acceptLanguage: options.acceptLanguage,
	});
	const title = t(locale, 'notFound.title');
	const body = markup`<a class="skip" href="#main">${t(locale, 'page.skip')}</a><main id="main" tabindex="-1"><h1>${t(locale, 'notFound.heading')}</h1><p>${t(locale, 'notFound.body')}</p></main>`;
	return { ...pageShell({ lang: locale, title, body }), statusCode: 404, locale };
}
