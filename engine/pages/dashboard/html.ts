import {
	barChart,
	formatNumber,
	funnelChart,
	histogram,
	horizontalBarChart,
	lineChart,
} from '../../charts/svg';
import type { DashboardData, ReviewItem, ReviewPerson } from './data';
import { escapeHtml, shell } from './shell';

export interface PageLinks {
	/** Where the dashboard and the review queue are served (the Webhook paths), for the navigation. */
	dashboardUrl?: string;
	reviewUrl?: string;
}

export interface DashboardView extends PageLinks {
	locale?: string;
	title?: string;
}

function day(ms: number): string {
	return new Date(ms).toISOString().slice(0, 10);
}

function nav(links: PageLinks, current: 'dashboard' | 'review') {
	const out: Array<{ href: string; label: string; current?: boolean }> = [];
	if (links.dashboardUrl)
		out.push({ href: links.dashboardUrl, label: 'Dashboard', current: current === 'dashboard' });
	if (links.reviewUrl)
		out.push({ href: links.reviewUrl, label: 'Review queue', current: current === 'review' });
	return out;
}

/** The dashboard's charts as SVG strings: the page embeds them, Report Charts renders them as PNG. */
export function dashboardCharts(data: DashboardData, locale = 'en'): Record<string, string> {
	const f = data.funnel;
	const labels = f.starts.map(day);
	const series = [
		...(f.clicks ? [{ name: 'Clicks', values: f.clicks }] : []),
		{ name: 'Sign-ups', values: f.signUps },
		{ name: 'Qualified', values: f.qualified },
		{ name: 'Rewarded', values: f.rewarded },
	];
	const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
	const charts: Record<string, string> = {
		funnel: funnelChart({
			title: `Funnel over the last ${labels.length} ${data.funnel.bucket === 'week' ? 'weeks' : 'days'} (from ${labels[0] ?? ''})`,
			locale,
			bars: series.map((s) => ({ label: s.name, value: sum(s.values) })),
		}),
		overTime: lineChart({
			title: 'Sign-ups, qualified and rewarded referrals over time',
			locale,
			labels,
			series,
			area: true,
		}),
		topReferrers: horizontalBarChart({
			title: 'Top referrers by qualified referrals',
			locale,
			bars: data.leaderboard.map((l) => ({
				label: `${l.rank}. ${l.name ?? l.externalId ?? `#${l.participantId}`}`,
				value: l.score,
			})),
		}),
	};
	if (data.loyalty?.segments) {
		charts.segments = barChart({
			title: 'Customers by RFM segment',
			locale,
			bars: Object.entries(data.loyalty.segments)
				.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
				.map(([label, value]) => ({ label, value })),
		});
	}
	if (data.loyalty?.loyaltyIndex) {
		const bins = new Array<number>(10).fill(0);
		for (const v of data.loyalty.loyaltyIndex)
			if (Number.isFinite(v)) bins[Math.min(9, Math.max(0, Math.floor(v / 10)))]++;
		charts.loyaltyIndex = histogram({
			title: 'Loyalty index distribution',
			locale,
			bars: bins.map((value, i) => ({ label: `${i * 10}–${i * 10 + (i === 9 ? 10 : 9)}`, value })),
		});
	}
	return charts;
}

export function dashboardHtml(data: DashboardData, view: DashboardView = {}): string {
	const locale = view.locale ?? 'en';
	const num = (v: number) => formatNumber(v, locale);
	const pct = (v: number | null) =>
		v === null ? '–' : formatNumber(v, locale, { style: 'percent', maximumFractionDigits: 1 });
	const money = (v: number, currency: string) => {
		try {
			return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(v);
		} catch {
			return `${num(v)} ${currency}`;
		}
	};
	const s = data.stats;
	const charts = dashboardCharts(data, locale);
	const kpi = (label: string, value: string, id: string) =>
		`<li data-kpi="${id}"><span class="label">${escapeHtml(label)}</span><span class="value">${escapeHtml(value)}</span></li>`;
	const kpis = [
		kpi('Referrals recorded', num(s.funnel.recorded), 'recorded'),
		kpi('Qualified (kept)', num(s.funnel.netQualified), 'netQualified'),
		kpi('Awaiting review', num(s.funnel.flagged), 'flagged'),
		kpi(
			'K-factor',
			s.kFactor ? formatNumber(s.kFactor.value, locale, { maximumFractionDigits: 3 }) : '–',
			'kFactor',
		),
		kpi('Referral rate', pct(s.referralRate), 'referralRate'),
		kpi('Conversion rate', pct(s.conversionRate), 'conversionRate'),
		kpi(
			'Referral CAC',
			s.referralCac ? money(s.referralCac.perQualifiedReferral, s.referralCac.currency) : '–',
			'referralCac',
		),
		kpi('Participants', num(s.customers), 'customers'),
	].join('');
	const section = (title: string, body: string, id: string) =>
		`<section aria-labelledby="${id}"><h2 id="${id}">${escapeHtml(title)}</h2>${body}</section>`;
	const chart = (svg: string) => `<div class="chart">${svg}</div>`;

	const revenue = Object.entries(s.referredRevenue);
	const comparison = s.referredVsNonReferred;
	const valueBody = comparison
		? `<table><thead><tr><th scope="col">Customers</th><th scope="col" class="num">Count</th><th scope="col" class="num">Revenue per customer</th><th scope="col" class="num">Retention</th></tr></thead><tbody>` +
			[
				['Referred', comparison.referred],
				['Not referred', comparison.nonReferred],
			]
				.map(
					([name, g]) =>
						`<tr><th scope="row">${name as string}</th><td class="num">${num((g as typeof comparison.referred).customers)}</td><td class="num">${(g as typeof comparison.referred).revenuePerCustomer === null ? '–' : num((g as typeof comparison.referred).revenuePerCustomer!)}</td><td class="num">${pct((g as typeof comparison.referred).retentionRate)}</td></tr>`,
				)
				.join('') +
			`</tbody></table><p class="muted">Referred customers spend ${comparison.revenuePerCustomerRatio === null ? '–' : `${formatNumber(comparison.revenuePerCustomerRatio, locale, { maximumFractionDigits: 2 })}×`} as much per customer.</p>`
		: `<p class="muted">Pass customer rows (referred, revenue, retained) to compare referred and non-referred customers.</p>`;
	const revenueBody =
		revenue.length > 0
			? `<p>Referred revenue: ${revenue.map(([c, v]) => escapeHtml(money(v, c))).join(', ')}</p>`
			: '';

	const l = data.liability;
	const liabilityRows = [
		...l.money.map(
			(m) =>
				`<tr><th scope="row">${escapeHtml(m.currency)}</th><td class="num">${escapeHtml(money(m.owed, m.currency))}</td><td class="num">${escapeHtml(money(m.paid, m.currency))}</td></tr>`,
		),
		`<tr><th scope="row">Points</th><td class="num">${num(l.points.owed)}</td><td class="num">${num(l.points.paid)}</td></tr>`,
		...l.other.map(
			(o) =>
				`<tr><th scope="row">${escapeHtml(o.kind)} rewards</th><td class="num">${num(o.owed)}</td><td class="num">${num(o.paid)}</td></tr>`,
		),
	].join('');
	const liabilityBody =
		`<table><thead><tr><th scope="col">Reward</th><th scope="col" class="num">Owed (pending, approved)</th><th scope="col" class="num">Paid (fulfilled)</th></tr></thead><tbody>${liabilityRows}</tbody></table>` +
		`<p class="muted">Points held by ${num(l.points.holders)} participants: ${num(l.points.outstanding)}.</p>`;

	const couponBody =
		data.coupons.length === 0
			? '<p class="muted">No coupon pools.</p>'
			: `<table><thead><tr><th scope="col">Pool</th><th scope="col" class="num">Available</th><th scope="col" class="num">Claimed</th><th scope="col" class="num">Per day (30 days)</th><th scope="col" class="num">Lasts</th></tr></thead><tbody>` +
				data.coupons
					.map(
						(c) =>
							`<tr><th scope="row">${escapeHtml(c.pool)}</th><td class="num">${num(c.available)}</td><td class="num">${num(c.claimed)}</td><td class="num">${num(c.perDay)}</td><td class="num">${c.daysLeft === null ? 'no recent use' : `${num(Math.floor(c.daysLeft))} days`}</td></tr>`,
					)
					.join('') +
				'</tbody></table>';

	const top =
		data.leaderboard.length === 0
			? '<p class="muted">No qualified referrals in the period yet.</p>'
			: chart(charts.topReferrers);
	const loyalty =
		charts.segments || charts.loyaltyIndex
			? section(
					'Loyalty',
					`<div class="grid">${charts.segments ? chart(charts.segments) : ''}${charts.loyaltyIndex ? chart(charts.loyaltyIndex) : ''}</div>`,
					'loyalty',
				)
			: '';
	const warnings =
		s.warnings.length > 0
			? `<div class="error" role="status">${s.warnings.map((w) => `<p>${escapeHtml(w)}</p>`).join('')}</div>`
			: '';
	const period =
		s.from && s.until ? `${s.from.slice(0, 10)} to ${s.until.slice(0, 10)}` : 'all time';
	const body =
		`<p class="muted">Program <strong>${escapeHtml(data.programId)}</strong>, period ${escapeHtml(s.period)} (${escapeHtml(period)}), as of ${escapeHtml(new Date(data.generatedAt).toISOString().slice(0, 16).replace('T', ' '))} UTC.</p>` +
		warnings +
		`<ul class="kpis" aria-label="Key figures">${kpis}</ul>` +
		`<div class="grid">${section('Funnel', chart(charts.funnel), 'funnel')}${section('Over time', chart(charts.overTime), 'over-time')}</div>` +
		`<div class="grid">${section('Top referrers', top, 'top')}${section('Customer value', revenueBody + valueBody, 'value')}</div>` +
		`<div class="grid">${section('Rewards owed and paid', liabilityBody, 'liability')}${section('Coupon pools', couponBody, 'coupons')}</div>` +
		loyalty;
	return shell({
		title: view.title ?? 'Referral dashboard',
		lang: locale,
		nav: nav(view, 'dashboard'),
		body,
	});
}

export interface ReviewView extends PageLinks {
	locale?: string;
	/** Where the forms post (the review POST webhook). */
	actionUrl: string;
	/** The form token for one referral and action. */
	tokenFor: (referralId: number, action: 'approve' | 'reject') => string;
	/** A message after a decision (from the redirect's query). */
	notice?: { kind: 'ok' | 'error'; text: string };
}

export function reviewQueueHtml(items: ReviewItem[], view: ReviewView): string {
	const locale = view.locale ?? 'en';
	const num = (v: number) => formatNumber(v, locale);
	const notice = view.notice
		? `<div class="${view.notice.kind === 'ok' ? 'notice' : 'error'}" role="status">${escapeHtml(view.notice.text)}</div>`
		: '';
	const form = (id: number, action: 'approve' | 'reject', label: string) =>
		`<form class="inline" method="post" action="${escapeHtml(view.actionUrl)}">` +
		`<input type="hidden" name="referralId" value="${id}">` +
		`<input type="hidden" name="decision" value="${action}">` +
		`<input type="hidden" name="token" value="${escapeHtml(view.tokenFor(id, action))}">` +
		`<button type="submit" class="${action}" aria-label="${label} referral ${id}">${label}</button></form>`;
	// Name and email (escaped), then the participant id; an erased participant is said so.
	const person = (id: number, p: ReviewPerson | null | undefined) => {
		const who = p?.erased
			? '<em>erased</em>'
			: [
					p?.name ? `<strong>${escapeHtml(p.name)}</strong>` : '',
					p?.email ? escapeHtml(p.email) : '',
				]
					.filter(Boolean)
					.join('<br>');
		return `${who ? `${who}<br>` : ''}<span class="muted">#${id}</span>`;
	};
	const rows = items
		.map(
			(item) =>
				`<tr data-referral="${item.referralId}"><th scope="row">${item.referralId}</th>` +
				`<td>${escapeHtml(new Date(item.signedUpAt).toISOString().slice(0, 16).replace('T', ' '))}</td>` +
				`<td class="referrer">${person(item.referrerId, item.referrer)}</td>` +
				`<td class="referee">${item.refereeId === null ? '–' : person(item.refereeId, item.referee)}</td>` +
				`<td class="num">${item.riskScore === null ? '–' : num(item.riskScore)}</td>` +
				`<td><ul class="reasons">${item.reasons
					.map(
						(r) =>
							`<li><strong>${escapeHtml(r.words)}</strong>${r.detail ? `<br><span class="muted">${escapeHtml(r.detail)}</span>` : ''}</li>`,
					)
					.join('')}</ul></td>` +
				`<td>${form(item.referralId, 'approve', 'Approve')} ${form(item.referralId, 'reject', 'Reject')}</td></tr>`,
		)
		.join('');
	const table =
		items.length === 0
			? '<p>Nothing to review: no referral is flagged.</p>'
			: `<table><caption class="muted">${num(items.length)} flagged referral(s), oldest first</caption><thead><tr><th scope="col">Referral</th><th scope="col">Signed up (UTC)</th><th scope="col">Referrer</th><th scope="col">New customer</th><th scope="col" class="num">Risk</th><th scope="col">Why it was held</th><th scope="col">Decision</th></tr></thead><tbody>${rows}</tbody></table>`;
	return shell({
		title: 'Referral review queue',
		lang: locale,
		nav: nav(view, 'review'),
		body: `${notice}<section aria-labelledby="queue"><h2 id="queue">Flagged referrals</h2>${table}</section>`,
	});
}
