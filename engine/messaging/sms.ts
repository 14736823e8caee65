/* SMS rules computed before sending: E.164 numbers, GSM-7 versus UCS-2, segment counts, replacing
 * typographic characters that would force UCS-2, the maximum-segments guard and the STOP footer. */
import {
	isSupportedCountry,
	parsePhoneNumberFromString,
	type CountryCode,
} from 'libphonenumber-js/max';
import { EngineError } from '../shared/errors';
import type { SmsEncoding } from './types';

/** GSM 03.38 basic character set (the escape code 0x1B left out: it only introduces the extension table). */
const GSM_BASIC = new Set(
	Array.from(
		'@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
	),
);
/** GSM 03.38 extension table: each costs two septets (escape + character). */
const GSM_EXTENSION = new Set(Array.from('^{}\\[~]|€\f'));

export const SEGMENT_LIMITS = {
	'GSM-7': { single: 160, multi: 153 },
	'UCS-2': { single: 70, multi: 67 },
} as const;

export interface SmsAnalysis {
	encoding: SmsEncoding;
	/** Characters as people count them (Unicode code points). */
	characters: number;
	/** What the carrier counts: septets for GSM-7 (extension characters count 2), UTF-16 code units for UCS-2 (emoji count 2). */
	units: number;
	segments: number;
	/** Units one segment holds at this length: 160 or 70 for a single segment, 153 or 67 once split. */
	unitsPerSegment: number;
	/** The characters that forced UCS-2, each once, in order of appearance. */
	nonGsmCharacters: string[];
}

/** Septets each UTF-16 code unit costs in GSM-7: 1 basic, 2 extension, 0 not in GSM-7. */
const GSM_COST = new Uint8Array(0x10000);
for (const c of GSM_BASIC) GSM_COST[c.charCodeAt(0)] = 1;
for (const c of GSM_EXTENSION) GSM_COST[c.charCodeAt(0)] = 2;

export function isGsmCharacter(character: string): boolean {
	return character.length === 1 && GSM_COST[character.charCodeAt(0)] !== 0;
}

export function analyseSms(text: string): SmsAnalysis {
	let septets = 0;
	let characters = 0;
	const nonGsm: string[] = [];
	for (let i = 0; i < text.length; i++) {
		const code = text.charCodeAt(i);
		characters++;
		const cost = GSM_COST[code];
		if (cost !== 0) {
			septets += cost;
			continue;
		}
		// A surrogate pair is one character (an emoji, say) taking two UTF-16 units.
		const pair =
			code >= 0xd800 && code <= 0xdbff && i + 1 < text.length ? text.slice(i, i + 2) : text[i];
		if (pair.length === 2) i++;
		if (!nonGsm.includes(pair)) nonGsm.push(pair);
	}
	const encoding: SmsEncoding = nonGsm.length === 0 ? 'GSM-7' : 'UCS-2';
	const units = encoding === 'GSM-7' ? septets : text.length;
	const limits = SEGMENT_LIMITS[encoding];
	return {
		encoding,
		characters,
		units,
		segments:
			units === 0 ? 0 : units <= limits.single ? 1 : packSegments(text, encoding, limits.multi),
		unitsPerSegment: units <= limits.single ? limits.single : limits.multi,
		nonGsmCharacters: nonGsm,
	};
}

/** Counts segments the way handsets split them: an escape pair or surrogate pair never straddles two. */
function packSegments(text: string, encoding: SmsEncoding, capacity: number): number {
	let segments = 1;
	let used = 0;
	for (let i = 0; i < text.length; i++) {
		const code = text.charCodeAt(i);
		let cost: number;
		if (encoding === 'GSM-7') {
			cost = GSM_COST[code];
		} else {
			cost = code >= 0xd800 && code <= 0xdbff && i + 1 < text.length ? 2 : 1;
			if (cost === 2) i++;
		}
		if (used + cost > capacity) {
			segments++;
			used = 0;
		}
		used += cost;
	}
	return segments;
}

/** Typographic characters with a GSM-7 stand-in. */
const SMART_REPLACEMENTS: Record<string, string> = {
	'\u2018': "'",
	'\u2019': "'",
	'\u201A': "'",
	'\u201B': "'",
	'\u2032': "'",
	'\u2039': "'",
	'\u203A': "'",
	'\u201C': '"',
	'\u201D': '"',
	'\u201E': '"',
	'\u201F': '"',
	'\u2033': '"',
	'\u00AB': '"',
	'\u00BB': '"',
	'\u2010': '-',
	'\u2011': '-',
	'\u2012': '-',
	'\u2013': '-',
	'\u2014': '-',
	'\u2015': '-',
	'\u2212': '-',
	'\u2022': '-',
	'\u00B7': '-',
	'\u2026': '...',
	'\u02C6': '^',
	'\u02DC': '~',
	'\t': ' ',
	'\u00A0': ' ',
	'\u2000': ' ',
	'\u2001': ' ',
	'\u2002': ' ',
	'\u2003': ' ',
	'\u2004': ' ',
	'\u2005': ' ',
	'\u2006': ' ',
	'\u2007': ' ',
	'\u2008': ' ',
	'\u2009': ' ',
	'\u200A': ' ',
	'\u202F': ' ',
	'\u205F': ' ',
	'\u3000': ' ',
	'\u200B': '',
	'\u200C': '',
	'\u200D': '',
	'\u2060': '',
	'\uFEFF': '',
	'\u00AD': '',
};

// Written as \u escapes so a joiner (U+200D) in the class cannot glue characters together.
const SMART_CHARACTER = new RegExp(
	`[${Object.keys(SMART_REPLACEMENTS)
		.map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
		.join('')}]`,
);

export interface SmartReplacement {
	character: string;
	replacement: string;
	count: number;
}

export interface SmartReplacementResult {
	text: string;
	replacements: SmartReplacement[];
	/** False when other characters (emoji, Cyrillic…) keep the text in UCS-2: then nothing is replaced. */
	applied: boolean;
}

/**
 * Replaces smart quotes, dashes, ellipses and odd spaces with GSM-7 equivalents, but only when that
 * makes the whole text GSM-7: otherwise the message stays UCS-2 anyway and the original text is kept.
 */
export function replaceSmartCharacters(text: string): SmartReplacementResult {
	if (!SMART_CHARACTER.test(text)) return { text, replacements: [], applied: false };
	const counts = new Map<string, number>();
	let replaced = '';
	for (const character of text) {
		const replacement = SMART_REPLACEMENTS[character];
		if (replacement === undefined) {
			replaced += character;
		} else {
			replaced += replacement;
			counts.set(character, (counts.get(character) ?? 0) + 1);
		}
	}
	const replacements = Array.from(counts, ([character, count]) => ({
		character,
		replacement: SMART_REPLACEMENTS[character],
		count,
	}));
	if (replacements.length === 0) return { text, replacements, applied: false };
	if (analyseSms(replaced).encoding !== 'GSM-7') return { text, replacements: [], applied: false };
	return { text: replaced, replacements, applied: true };
}

export const DEFAULT_STOP_FOOTER = 'Reply STOP to opt out';

/** Appends the opt-out footer on its own line, unless the text already carries it. */
export function withStopFooter(text: string, footer: string = DEFAULT_STOP_FOOTER): string {
	const trimmedFooter = footer.trim();
	if (trimmedFooter === '' || text.toLowerCase().includes(trimmedFooter.toLowerCase())) return text;
	return `${text.trimEnd()}\n${trimmedFooter}`;
}

export function assertSegments(
	analysis: SmsAnalysis,
	maxSegments: number,
	itemLabel?: string,
): void {
	if (analysis.segments <= maxSegments) return;
	const why =
		analysis.encoding === 'UCS-2'
			? ` It is sent as UCS-2 (70 characters a segment) because of ${analysis.nonGsmCharacters
					.slice(0, 5)
					.map((c) => JSON.stringify(c))
					.join(', ')}.`
			: '';
	throw new EngineError(
		'too_many_segments',
		`The SMS${itemLabel ? ` for ${itemLabel}` : ''} needs ${analysis.segments} segments (${analysis.units} ${analysis.encoding === 'GSM-7' ? 'septets' : 'UTF-16 units'}), more than the maximum of ${maxSegments}.${why} ` +
			'Shorten the text, turn on smart-character replacement, or raise the maximum.',
		{
			field: 'maxSegments',
			details: { segments: analysis.segments, maxSegments, encoding: analysis.encoding },
		},
	);
}

export interface PhoneOptions {
	/** ISO 3166 alpha-2 country for numbers written without a country code, e.g. "US". */
	defaultCountry?: string;
	/** The user's name of the field or parameter that held the number. */
	field?: string;
	itemLabel?: string;
	/** Refuse numbers that are known not to take SMS (landlines, premium rate, pagers). */
	mobileOnly?: boolean;
}

const NOT_SMS_CAPABLE = new Set([
	'FIXED_LINE',
	'PREMIUM_RATE',
	'SHARED_COST',
	'VOICEMAIL',
	'PAGER',
	'UAN',
	'TOLL_FREE',
]);

export function checkDefaultCountry(country: string | undefined): CountryCode | undefined {
	if (country === undefined || country === '') return undefined;
	const upper = country.trim().toUpperCase();
	if (!/^[A-Z]{2}$/.test(upper) || !isSupportedCountry(upper)) {
		throw new EngineError(
			'invalid_country',
			`Default country "${country}" is not a known ISO 3166 two-letter code such as "US" or "DE".`,
			{
				field: 'defaultCountry',
			},
		);
	}
	return upper;
}

/** Normalizes a phone number to E.164 (`+14155552671`), or throws an EngineError saying what is wrong. */
export function normalizePhoneNumber(input: unknown, options: PhoneOptions = {}): string {
	const field = options.field ?? 'to';
	const country = checkDefaultCountry(options.defaultCountry);
	const where = options.itemLabel ? ` (${options.itemLabel})` : '';
	const raw = typeof input === 'number' && Number.isSafeInteger(input) ? String(input) : input;
	if (typeof raw !== 'string' || raw.trim() === '') {
		throw new EngineError(
			'invalid_phone_number',
			`The phone number${where} is missing; give it in international format such as +14155552671.`,
			{ field },
		);
	}
	const parsed = parsePhoneNumberFromString(raw.trim(), country);
	if (parsed === undefined || !parsed.isValid()) {
		const hint = country
			? `read with default country ${country}`
			: 'no default country set, so it needs a leading + and country code';
		throw new EngineError(
			'invalid_phone_number',
			`"${raw.trim()}"${where} is not a valid phone number (${hint}). Use international format such as +14155552671.`,
			{ field },
		);
	}
	if (options.mobileOnly) {
		const type = parsed.getType();
		if (type !== undefined && NOT_SMS_CAPABLE.has(type)) {
			throw new EngineError(
				'not_mobile',
				`${parsed.number}${where} is a ${type.toLowerCase().replace(/_/g, ' ')} number, which cannot receive SMS.`,
				{
					field,
					details: { type },
				},
			);
		}
	}
	return parsed.number;
}

/** A sender: an E.164 number, or an alphanumeric sender ID of at most 11 letters, digits and spaces. */
export function normalizeSender(input: unknown, options: PhoneOptions = {}): string {
	const field = options.field ?? 'from';
	if (input === undefined || input === null || input === '') return '';
	const raw = String(input).trim();
	if (/^\+?[\d\s().-]+$/.test(raw))
		return normalizePhoneNumber(raw, { ...options, field, mobileOnly: false });
	if (/^[A-Za-z0-9 ]{1,11}$/.test(raw) && /[A-Za-z]/.test(raw)) return raw;
	throw new EngineError(
		'invalid_sender',
		`Sender "${raw}" is neither a phone number nor an alphanumeric sender ID (1 to 11 letters, digits or spaces, at least one letter).`,
		{ field },
	);
}
