import { randomBytes } from 'node:crypto';

import { CodeGenerator, type CodeFormatOptions } from '../codes';
import { EngineError } from '../shared/errors';
import { parseSmsCountries } from '../messaging/smsGuard';
import type { LedgerStore, ProgramRecord } from '../ledger/store';
import { validateReferralProgram, type ReferralProgramSettings } from './program';
import { buildShareUrl, type ShareUrlOptions } from './share';
import { describe, isRecord, requireText } from '../shared/guards';

/**
 * A referral program's stored configuration: the validated rules (attribution, fraud policy,
 * qualification, refund policy), the code format, the share link, and the secret salt for ip and
 * user-agent hashes. Kept under `settings.referral` of the ledger's program row so other areas can
 * keep their own keys beside it.
 */

export interface ShareSettings extends ShareUrlOptions {
	/** Landing page the share link points to; no share link when empty. */
	baseUrl?: string;
}

export interface ReferralProgramInput {
	programId: string;
	name?: string;
	attribution?: unknown;
	fraudPolicy?: unknown;
	qualification?: unknown;
	refundPolicy?: unknown;
	codeFormat?: CodeFormatOptions;
	share?: ShareSettings;
	/** Countries guarded texts may go to (ISO 3166 alpha-2, a list or "US, CA"); empty means any. */
	smsCountries?: unknown;
	/** The language of the program's pages (BCP 47, e.g. `de`); empty: the visitor's Accept-Language. */
	locale?: unknown;
	/** Share texts by language (`{ en: 'Join me… {link}', de: '…' }`), with {code}, {link}, {program}. */
	shareTexts?: unknown;
}

export interface ReferralProgramConfig extends ReferralProgramSettings {
	name: string;
	codeFormat: CodeFormatOptions;
	share: ShareSettings;
	/** The program's markets for texts (the SMS guard of Templated Message); empty means any country. */
	smsCountries: string[];
	/** The language of the program's pages; null: the visitor's Accept-Language decides. */
	locale: string | null;
	/** Share texts by lower-case language tag; empty: the pages' built-in texts. */
	shareTexts: Record<string, string>;
}

/** What the program looks like from outside: the salt is never part of it. */
export type ReferralProgramView = ReferralProgramConfig;

export interface LoadedProgram {
	config: ReferralProgramConfig;
	generator: CodeGenerator;
	/** Keyed-hash secret for ip and user agent; never leaves the engine. */
	salt: string;
}

const SETTINGS_KEY = 'referral';

// A type, not an interface: it is JSON kept in the program's settings, a Record<string, unknown>.
type StoredSettings = {
	input: Omit<ReferralProgramInput, 'programId' | 'name'>;
	/** Only in ledgers written before the salt lived in program secrets alone; read once, then dropped. */
	hashSalt?: string;
};

const SALT = 'hashSalt';

function stored(program: ProgramRecord | null): StoredSettings | undefined {
	const value = program?.settings?.[SETTINGS_KEY];
	return isRecord(value) && isRecord(value.input) ? (value as StoredSettings) : undefined;
}

function checkShare(share: unknown, generator: CodeGenerator): ShareSettings {
	if (share === undefined || share === null) return {};
	if (!isRecord(share))
		throw new EngineError(
			'invalid_object',
			'share must be an object with baseUrl and utm settings.',
			{ field: 'share' },
		);
	const out: ShareSettings = {};
	for (const key of [
		'baseUrl',
		'codeParameter',
		'utmSource',
		'utmMedium',
		'utmCampaign',
		'utmContent',
		'utmTerm',
	] as const) {
		const value = share[key];
		if (value === undefined || value === null || value === '') continue;
		out[key] = requireText(value, key, 2048);
	}
	// A sample link proves the base URL and parameter names before any participant needs one.
	if (out.baseUrl) buildShareUrl(out.baseUrl, generator.next(), out);
	return out;
}

const LOCALE = /^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$/;

function checkLocale(value: unknown, field: string): string | null {
	if (value === undefined || value === null || value === '') return null;
	const text = requireText(value, field, 35);
	if (!LOCALE.test(text))
		throw new EngineError(
			'invalid_locale',
			`${field} must be a language tag such as en, de or de-AT (got ${describe(text)}).`,
			{ field },
		);
	return text.toLowerCase().replace('_', '-');
}

/** Share texts: an object of language → text, or rows of { locale, text } as the node's form gives them. */
function checkShareTexts(value: unknown): Record<string, string> {
	if (value === undefined || value === null || value === '') return {};
	const rows: Array<[unknown, unknown]> = Array.isArray(value)
		? value.map((row) => (isRecord(row) ? [row.locale, row.text] : [undefined, undefined]))
		: isRecord(value)
			? Object.entries(value)
			: [];
	if (!Array.isArray(value) && !isRecord(value))
		throw new EngineError(
			'invalid_object',
			'shareTexts must be an object of language → text, e.g. { "en": "Join me: {link}" }.',
			{ field: 'shareTexts' },
		);
	const out: Record<string, string> = {};
	for (const [locale, text] of rows) {
		const tag = checkLocale(locale, 'shareTexts.locale');
		if (tag === null) continue;
		out[tag] = requireText(text, `shareTexts.${tag}`, 1000);
	}
	return out;
}

/** Checks a program form completely (rules, code format, share link); throws naming the field. */
export function validateProgramInput(input: ReferralProgramInput): {
	config: ReferralProgramConfig;
	generator: CodeGenerator;
} {
	const rules = validateReferralProgram(input);
	const codeFormat = input.codeFormat ?? {};
	const generator = new CodeGenerator(codeFormat);
	const share = checkShare(input.share, generator);
	const name =
		input.name === undefined || input.name === ''
			? rules.programId
			: requireText(input.name, 'name', 256);
	const smsCountries = parseSmsCountries(input.smsCountries);
	const locale = checkLocale(input.locale, 'locale');
	const shareTexts = checkShareTexts(input.shareTexts);
	return {
		config: { ...rules, name, codeFormat, share, smsCountries, locale, shareTexts },
		generator,
	};
}

/**
 * The program's hash salt. It is stored once, as the write-once program secret `hashSalt` (never in
 * the settings, which anyone reading the program row sees); the first writer wins, so racing first
 * saves all end up with the same one. A salt an older version kept in the settings is claimed as is.
 */
async function saltOf(
	ledger: LedgerStore,
	programId: string,
	legacy: string | undefined,
): Promise<string> {
	const known = await ledger.getProgramSecret({ programId, name: SALT });
	if (known !== null) return known;
	return await ledger.claimProgramSecret({
		programId,
		name: SALT,
		candidate: legacy ?? randomBytes(32).toString('hex'),
	});
}

/**
 * Creates or updates a program. The salt is made once, when the program first gets referral
 * settings, and kept on every later update (changing it would make old hashes unmatchable).
 */
export async function saveReferralProgram(
	ledger: LedgerStore,
	input: ReferralProgramInput,
): Promise<{ program: ReferralProgramView; created: boolean }> {
	const { config } = validateProgramInput(input);
	const existing = await ledger.getProgram(config.programId);
	const previous = stored(existing);
	const { programId: _id, name: _name, ...form } = input;
	if (!existing) await ledger.ensureProgram({ id: config.programId, name: config.name });
	await saltOf(ledger, config.programId, previous?.hashSalt);
	const settings: StoredSettings = { input: form };
	await ledger.ensureProgram({
		id: config.programId,
		name: config.name,
		settings: {
			...(existing?.settings ?? {}),
			[SETTINGS_KEY]: settings,
		},
	});
	return { program: config, created: previous === undefined };
}

/**
 * Loads a program's configuration. A program that has none yet (created implicitly by another
 * node) gets the defaults and its salt now; the salt is write-once in the ledger, so two
 * executions doing that at the same moment agree on it.
 */
export async function loadReferralProgram(
	ledger: LedgerStore,
	programId: string,
): Promise<LoadedProgram> {
	const id = requireText(programId, 'program', 128);
	let program = await ledger.getProgram(id);
	let settings = stored(program);
	if (!settings || settings.hashSalt !== undefined) {
		// No referral settings yet (defaults are stored now), or an older row with the salt beside them (moved out now).
		await saveReferralProgram(ledger, {
			...(settings?.input ?? {}),
			programId: id,
			name: program?.name,
		});
		program = await ledger.getProgram(id);
		settings = stored(program);
		if (!settings)
			throw new EngineError(
				'ledger_internal',
				`The settings of program "${id}" could not be stored; retry.`,
				{ field: 'program' },
			);
	}
	const { config, generator } = validateProgramInput({
		...settings.input,
		programId: id,
		name: program?.name,
	});
	return { config, generator, salt: await saltOf(ledger, id, undefined) };
}
