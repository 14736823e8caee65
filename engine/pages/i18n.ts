/**
 * The ONE message catalogue of the pages n8n serves (participant page, marketer dashboard), in
 * English and German. Add a key to `en` first (it is the fallback for every other locale), then to
 * `de`. A message is a text with `{name}` parameters, or plural forms chosen with Intl.PluralRules
 * by the `count` parameter (`{ one: '{count} point', other: '{count} points' }`).
 *
 * ```ts
 * const locale = pageLocale({ programLocale: 'de', acceptLanguage: 'en-US,en;q=0.9' }); // 'de'
 * t(locale, 'participant.points', { count: 3 }); // '3 Punkte'
 * ```
 */

/** Plural forms by Intl.PluralRules category; `other` is required. */
export type PluralMessage = Partial<Record<Intl.LDMLPluralRule, string>> & { other: string };
export type Message = string | PluralMessage;

const en = {
	'page.skip': 'Skip to content',
	'page.poweredBy': 'Referral program page, served by n8n.',
	'page.private':
		'This page is private: do not share its address. Share your referral link instead.',
	'page.validUntil': 'This private link works until {date}.',
	'notFound.title': 'Link not valid',
	'notFound.heading': 'This link is not valid or has expired',
	'notFound.body':
		'It may be incomplete, changed or too old. Ask for a new link with the email address you joined with, or use the link in our latest email.',
	'participant.title': 'Your referrals: {program}',
	'participant.hello': 'Hello {name}!',
	'participant.helloAnonymous': 'Hello!',
	'participant.intro': 'Invite friends to {program} and follow your rewards here.',
	'participant.share.heading': 'Your code and link',
	'participant.code': 'Your referral code',
	'participant.link': 'Your referral link',
	'participant.noLink': 'Your referral link is not available yet.',
	'participant.copy': 'Copy',
	'participant.copyCode': 'Copy code',
	'participant.copyLink': 'Copy link',
	'participant.copied': 'Copied',
	'participant.copyFailed': 'Copying failed: select the text and copy it yourself.',
	'participant.qr': 'QR code of your referral link',
	'participant.qrHint': 'Friends can scan this code with their phone camera.',
	'participant.shareVia': 'Share via',
	'participant.shareNative': 'Share…',
	'participant.share.email': 'Email',
	'participant.share.sms': 'SMS',
	'participant.share.whatsapp': 'WhatsApp',
	'participant.share.x': 'X',
	'participant.share.linkedin': 'LinkedIn',
	'participant.share.facebook': 'Facebook',
	'participant.share.opensNew': '(opens a new window)',
	'participant.share.subject': 'An invitation to {program}',
	'participant.share.text': 'Join me at {program}! Use my code {code}: {link}',
	'participant.progress.heading': 'Your progress',
	'participant.stats.referrals': 'Referrals',
	'participant.stats.qualified': 'Qualified referrals',
	'participant.stats.points': 'Points',
	'participant.stats.tier': 'Tier',
	'participant.stats.noTier': 'No tier yet',
	'participant.stats.rank': 'Rank',
	'participant.stats.rankValue': 'No. {rank}',
	'participant.stats.noRank': 'Not ranked yet',
	'participant.badges': 'Badges',
	'participant.noBadges': 'No badges yet.',
	'participant.milestone.next': 'Next milestone: {target} qualified referrals',
	'participant.milestone.toGo': {
		one: '{count} more qualified referral to go.',
		other: '{count} more qualified referrals to go.',
	},
	'participant.milestone.done': 'You have reached every milestone. Thank you!',
	'participant.milestone.label': 'Progress to the next milestone',
	'participant.tier.next': 'Next tier: {tier}',
	'participant.tier.toGo.qualified_referrals': {
		one: '{count} more qualified referral to reach it.',
		other: '{count} more qualified referrals to reach it.',
	},
	'participant.tier.toGo.points': {
		one: '{count} more point to reach it.',
		other: '{count} more points to reach it.',
	},
	'participant.tier.label': 'Progress to the next tier',
	'participant.tier.top': 'You hold the highest tier.',
	'participant.rewards.heading': 'Your rewards',
	'participant.rewards.earned': 'Earned',
	'participant.rewards.pending': 'Pending',
	'participant.rewards.none': 'No rewards yet.',
	'participant.rewards.reward': 'Reward',
	'participant.rewards.date': 'Date',
	'participant.rewards.status': 'Status',
	'participant.rewards.availableFrom': 'available from {date}',
	'participant.rewards.points': { one: '{count} point', other: '{count} points' },
	'participant.rewards.coupon': 'Coupon',
	'participant.rewards.couponValue': 'Coupon worth {value}',
	'participant.rewards.couponPercent': 'Coupon: {percent} % off',
	'participant.rewards.cash': 'Cash reward of {value}',
	'participant.rewards.badge': 'Badge: {name}',
	'participant.rewards.tier': 'Tier: {name}',
	'participant.rewards.custom': 'Reward: {name}',
	'participant.rewards.status.pending': 'pending',
	'participant.rewards.status.approved': 'approved',
	'participant.rewards.status.fulfilled': 'fulfilled',
	'participant.referrals.heading': 'Your referrals',
	'participant.referrals.none': 'No referrals yet. Share your link to get started.',
	'participant.referrals.person': 'Friend',
	'participant.referrals.date': 'Joined',
	'participant.referrals.status': 'Status',
	'participant.referrals.erased': 'Deleted account',
	'participant.referrals.unnamed': 'A friend',
	'participant.referrals.more': {
		one: 'and {count} more referral.',
		other: 'and {count} more referrals.',
	},
	'participant.referrals.status.pending': 'pending',
	'participant.referrals.status.flagged': 'under review',
	'participant.referrals.status.rejected': 'not counted',
	'participant.referrals.status.qualified': 'qualified',
	'participant.referrals.status.reversed': 'reversed',
} satisfies Record<string, Message>;

export type MessageKey = keyof typeof en;

const de: Partial<Record<MessageKey, Message>> = {
	'page.skip': 'Zum Inhalt springen',
	'page.poweredBy': 'Seite des Empfehlungsprogramms, bereitgestellt von n8n.',
	'page.private':
		'Diese Seite ist privat: Teile ihre Adresse nicht. Teile stattdessen deinen Empfehlungslink.',
	'page.validUntil': 'Dieser private Link funktioniert bis {date}.',
	'notFound.title': 'Link ungültig',
	'notFound.heading': 'Dieser Link ist ungültig oder abgelaufen',
	'notFound.body':
		'Er ist vielleicht unvollständig, verändert oder zu alt. Fordere mit der E-Mail-Adresse, mit der du teilnimmst, einen neuen Link an, oder nutze den Link aus unserer letzten E-Mail.',
	'participant.title': 'Deine Empfehlungen: {program}',
	'participant.hello': 'Hallo {name}!',
	'participant.helloAnonymous': 'Hallo!',
	'participant.intro': 'Lade Freunde zu {program} ein und verfolge hier deine Prämien.',
	'participant.share.heading': 'Dein Code und Link',
	'participant.code': 'Dein Empfehlungscode',
	'participant.link': 'Dein Empfehlungslink',
	'participant.noLink': 'Dein Empfehlungslink ist noch nicht verfügbar.',
	'participant.copy': 'Kopieren',
	'participant.copyCode': 'Code kopieren',
	'participant.copyLink': 'Link kopieren',
	'participant.copied': 'Kopiert',
	'participant.copyFailed': 'Kopieren fehlgeschlagen: Markiere den Text und kopiere ihn selbst.',
	'participant.qr': 'QR-Code deines Empfehlungslinks',
	'participant.qrHint': 'Freunde können diesen Code mit der Handykamera scannen.',
	'participant.shareVia': 'Teilen über',
	'participant.shareNative': 'Teilen…',
	'participant.share.email': 'E-Mail',
	'participant.share.sms': 'SMS',
	'participant.share.opensNew': '(öffnet ein neues Fenster)',
	'participant.share.subject': 'Eine Einladung zu {program}',
	'participant.share.text': 'Mach mit bei {program}! Nutze meinen Code {code}: {link}',
	'participant.progress.heading': 'Dein Fortschritt',
	'participant.stats.referrals': 'Empfehlungen',
	'participant.stats.qualified': 'Qualifizierte Empfehlungen',
	'participant.stats.points': 'Punkte',
	'participant.stats.tier': 'Stufe',
	'participant.stats.noTier': 'Noch keine Stufe',
	'participant.stats.rank': 'Rang',
	'participant.stats.rankValue': 'Platz {rank}',
	'participant.stats.noRank': 'Noch kein Rang',
	'participant.badges': 'Abzeichen',
	'participant.noBadges': 'Noch keine Abzeichen.',
	'participant.milestone.next': 'Nächster Meilenstein: {target} qualifizierte Empfehlungen',
	'participant.milestone.toGo': {
		one: 'Noch {count} qualifizierte Empfehlung.',
		other: 'Noch {count} qualifizierte Empfehlungen.',
	},
	'participant.milestone.done': 'Du hast alle Meilensteine erreicht. Danke!',
	'participant.milestone.label': 'Fortschritt zum nächsten Meilenstein',
	'participant.tier.next': 'Nächste Stufe: {tier}',
	'participant.tier.toGo.qualified_referrals': {
		one: 'Noch {count} qualifizierte Empfehlung bis dahin.',
		other: 'Noch {count} qualifizierte Empfehlungen bis dahin.',
	},
	'participant.tier.toGo.points': {
		one: 'Noch {count} Punkt bis dahin.',
		other: 'Noch {count} Punkte bis dahin.',
	},
	'participant.tier.label': 'Fortschritt zur nächsten Stufe',
	'participant.tier.top': 'Du hast die höchste Stufe erreicht.',
	'participant.rewards.heading': 'Deine Prämien',
	'participant.rewards.earned': 'Erhalten',
	'participant.rewards.pending': 'Ausstehend',
	'participant.rewards.none': 'Noch keine Prämien.',
	'participant.rewards.reward': 'Prämie',
	'participant.rewards.date': 'Datum',
	'participant.rewards.status': 'Status',
	'participant.rewards.availableFrom': 'verfügbar ab {date}',
	'participant.rewards.points': { one: '{count} Punkt', other: '{count} Punkte' },
	'participant.rewards.coupon': 'Gutschein',
	'participant.rewards.couponValue': 'Gutschein über {value}',
	'participant.rewards.couponPercent': 'Gutschein: {percent} % Rabatt',
	'participant.rewards.cash': 'Geldprämie von {value}',
	'participant.rewards.badge': 'Abzeichen: {name}',
	'participant.rewards.tier': 'Stufe: {name}',
	'participant.rewards.custom': 'Prämie: {name}',
	'participant.rewards.status.pending': 'ausstehend',
	'participant.rewards.status.approved': 'freigegeben',
	'participant.rewards.status.fulfilled': 'ausgezahlt',
	'participant.referrals.heading': 'Deine Empfehlungen',
	'participant.referrals.none': 'Noch keine Empfehlungen. Teile deinen Link, um loszulegen.',
	'participant.referrals.person': 'Freund',
	'participant.referrals.date': 'Beigetreten',
	'participant.referrals.status': 'Status',
	'participant.referrals.erased': 'Gelöschtes Konto',
	'participant.referrals.unnamed': 'Ein Freund',
	'participant.referrals.more': {
		one: 'und {count} weitere Empfehlung.',
		other: 'und {count} weitere Empfehlungen.',
	},
	'participant.referrals.status.pending': 'ausstehend',
	'participant.referrals.status.flagged': 'in Prüfung',
	'participant.referrals.status.rejected': 'nicht gezählt',
	'participant.referrals.status.qualified': 'qualifiziert',
	'participant.referrals.status.reversed': 'storniert',
};

/** Every catalogue by its language; `en` is complete, the others fall back to it key by key. */
export const CATALOGUES: Readonly<Record<string, Partial<Record<MessageKey, Message>>>> = {
	en,
	de,
};
export const SUPPORTED_LOCALES = Object.keys(CATALOGUES);
export const DEFAULT_LOCALE = 'en';

/** The catalogue language for a BCP 47 tag (`de-AT` → `de`), or undefined when there is none. */
export function supportedLocale(tag: unknown): string | undefined {
	if (typeof tag !== 'string') return undefined;
	const language = tag.trim().toLowerCase().split(/[-_]/)[0];
	return Object.hasOwn(CATALOGUES, language) ? language : undefined;
}

/** Languages of an Accept-Language header, best first (by q, then order); `q=0` left out. */
export function acceptedLanguages(header: unknown): string[] {
	if (typeof header !== 'string' || header.trim() === '') return [];
	return header
		.slice(0, 1000)
		.split(',')
		.map((part, index) => {
			const [tag, ...params] = part.trim().split(';');
			const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)).find(Boolean);
			return { tag: tag.trim(), q: q ? Number(q[1]) : 1, index };
		})
		.filter((l) => l.tag !== '' && l.tag !== '*' && Number.isFinite(l.q) && l.q > 0)
		.sort((a, b) => b.q - a.q || a.index - b.index)
		.map((l) => l.tag);
}

/** The page's language: the program's locale setting, else the best supported Accept-Language, else en. */
export function pageLocale(input: { programLocale?: unknown; acceptLanguage?: unknown }): string {
	return (
		supportedLocale(input.programLocale) ??
		acceptedLanguages(input.acceptLanguage)
			.map(supportedLocale)
			.find((l) => l !== undefined) ??
		DEFAULT_LOCALE
	);
}

export type MessageParams = Record<string, string | number>;

const pluralRules = new Map<string, Intl.PluralRules>();

function pluralOf(locale: string, count: number): Intl.LDMLPluralRule {
	let rules = pluralRules.get(locale);
	if (!rules) {
		rules = new Intl.PluralRules(locale);
		pluralRules.set(locale, rules);
	}
	return rules.select(count);
}

/**
 * The message `key` in `locale` (falling back to English for a locale or key it lacks), with
 * `{name}` replaced by `params.name`; numbers are formatted for the locale. A plural message picks
 * its form by `params.count`. An unknown key answers the key itself (visible, never a crash).
 */
export function t(locale: string, key: MessageKey | string, params: MessageParams = {}): string {
	const language = supportedLocale(locale) ?? DEFAULT_LOCALE;
	const message =
		(CATALOGUES[language] as Record<string, Message | undefined>)[key] ??
		(en as Record<string, Message | undefined>)[key];
	if (message === undefined) return key;
	let text: string;
	if (typeof message === 'string') text = message;
	else {
		const count = Number(params.count ?? 0);
		text = message[pluralOf(language, count)] ?? message.other;
	}
	return text.replace(/\{(\w+)\}/g, (whole, name: string) => {
		const value = params[name];
		if (value === undefined) return whole;
		return typeof value === 'number' ? formatNumber(language, value) : value;
	});
}

/** A number for the locale (`1234.5` → `1,234.5` / `1.234,5`). */
export function formatNumber(locale: string, value: number): string {
	return new Intl.NumberFormat(supportedLocale(locale) ?? DEFAULT_LOCALE).format(value);
}

/** An amount of money for the locale; without a valid currency, the number alone. */
export function formatMoney(locale: string, value: number, currency: string | null): string {
	const language = supportedLocale(locale) ?? DEFAULT_LOCALE;
	if (currency && /^[A-Z]{3}$/.test(currency)) {
		try {
			return new Intl.NumberFormat(language, { style: 'currency', currency }).format(value);
		} catch {
			// An unknown currency code: the number and the code.
		}
	}
	return `${formatNumber(language, value)}${currency ? ` ${currency}` : ''}`;
}

/** A date (no time) for the locale, in the given time zone (UTC by default). */
export function formatDate(locale: string, ms: number, timeZone = 'UTC'): string {
	const language = supportedLocale(locale) ?? DEFAULT_LOCALE;
	try {
		return new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeZone }).format(ms);
	} catch {
		return new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeZone: 'UTC' }).format(ms);
	}
}
