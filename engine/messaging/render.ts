/* The Render operation: everything a message will contain, computed exactly as Send computes it,
 * so a marketer's preview is the message that goes out. */
import { EngineError } from '../shared/errors';
import {
	addCommercialFooter,
	checkCommercialOptions,
	cleanSubject,
	listUnsubscribeHeaders,
	type CommercialEmailOptions,
} from './email';
import { htmlToText } from './htmlToText';
import {
	analyseSms,
	replaceSmartCharacters,
	withStopFooter,
	DEFAULT_STOP_FOOTER,
	type SmartReplacement,
	type SmsAnalysis,
} from './sms';
import { TemplateRenderer, type RenderSettings } from './templates';

export interface EmailTemplates {
	subject: string;
	html: string;
	/** Plain-text template; when absent or blank the text part is derived from the HTML. */
	text?: string;
	/** HTML wrapper with `{{{body}}}` where the rendered HTML goes. */
	layout?: string;
	partials?: Record<string, string>;
}

export interface EmailContentInput {
	templates: EmailTemplates;
	/** The item's data the templates read (usually the item JSON). */
	data: unknown;
	settings?: Omit<RenderSettings, 'partials'>;
	/** Commercial mode: List-Unsubscribe headers and the postal-address footer, both required. */
	commercial?: CommercialEmailOptions;
}

export interface RenderedEmail {
	subject: string;
	html: string;
	text: string;
	/** True when the text part was derived from the HTML. */
	textDerived: boolean;
	/** Headers the message will carry (List-Unsubscribe and List-Unsubscribe-Post in commercial mode). */
	headers: Record<string, string>;
	warnings: string[];
}

/** Gmail truncates ("clips") HTML bodies above about 102 KB. */
const GMAIL_CLIP_BYTES = 102 * 1024;
const LONG_SUBJECT = 120;

export function renderEmail(input: EmailContentInput): RenderedEmail {
	const settings = input.settings ?? {};
	const templates = input.templates;
	if (templates === undefined || typeof templates !== 'object') {
		throw new EngineError(
			'invalid_template',
			'Email templates are missing: give at least a subject and an HTML template.',
			{ field: 'templates' },
		);
	}
	const commercial = input.commercial
		? checkCommercialOptions(input.commercial, settings.itemLabel)
		: undefined;
	const renderer = new TemplateRenderer(input.data, { ...settings, partials: templates.partials });
	const subject = cleanSubject(
		renderer.render('subject', templates.subject, 'text'),
		settings.itemLabel,
	);
	let html = renderer.render('html', templates.html, 'html');
	if (templates.layout !== undefined && templates.layout.trim() !== '')
		html = renderer.renderLayout(templates.layout, html);
	const textDerived = templates.text === undefined || templates.text.trim() === '';
	let text = textDerived ? htmlToText(html) : renderer.render('text', templates.text!, 'text');
	let headers: Record<string, string> = {};
	if (commercial) {
		({ html, text } = addCommercialFooter(html, text, commercial));
		headers = listUnsubscribeHeaders(commercial);
	}
	const warnings: string[] = [];
	// Counting bytes costs a pass over the HTML; only texts that could be that long need it.
	const htmlBytes = html.length * 3 > GMAIL_CLIP_BYTES ? Buffer.byteLength(html) : html.length;
	if (htmlBytes > GMAIL_CLIP_BYTES)
		warnings.push(
			`The HTML is ${Math.round(htmlBytes / 1024)} KB; Gmail clips messages above 102 KB, hiding the end (and the footer).`,
		);
	if (subject.length > LONG_SUBJECT)
		warnings.push(
			`The subject is ${subject.length} characters; most inboxes show about the first 60.`,
		);
	if (text.trim() === '') warnings.push('The plain-text part is empty.');
	return { subject, html, text, textDerived, headers, warnings };
}

export interface SmsContentInput {
	template: string;
	data: unknown;
	settings?: Omit<RenderSettings, 'partials'>;
	partials?: Record<string, string>;
	/** Replace smart quotes, dashes and odd spaces when that keeps the message in GSM-7. */
	replaceSmartCharacters?: boolean;
	/** Append an opt-out line: true for "Reply STOP to opt out", or the line to use. */
	stopFooter?: boolean | string;
	/** Most segments one message may take (default 3); Send refuses longer messages, Render warns. */
	maxSegments?: number;
}

export interface RenderedSms extends SmsAnalysis {
	text: string;
	replacements: SmartReplacement[];
	maxSegments: number;
	warnings: string[];
}

export const DEFAULT_MAX_SEGMENTS = 3;

export function checkMaxSegments(value: number | undefined): number {
	if (value === undefined) return DEFAULT_MAX_SEGMENTS;
	if (!Number.isInteger(value) || value < 1 || value > 20) {
		throw new EngineError(
			'invalid_max_segments',
			`Maximum segments must be a whole number from 1 to 20; got ${value}.`,
			{ field: 'maxSegments' },
		);
	}
	return value;
}

export function renderSms(input: SmsContentInput): RenderedSms {
	const settings = input.settings ?? {};
	const maxSegments = checkMaxSegments(input.maxSegments);
	const renderer = new TemplateRenderer(input.data, { ...settings, partials: input.partials });
	let text = renderer.render('SMS text', input.template, 'text').trim();
	if (input.stopFooter)
		text = withStopFooter(
			text,
			typeof input.stopFooter === 'string' ? input.stopFooter : DEFAULT_STOP_FOOTER,
		);
	let replacements: SmartReplacement[] = [];
	const warnings: string[] = [];
	if (input.replaceSmartCharacters) {
		const result = replaceSmartCharacters(text);
		text = result.text;
		replacements = result.replacements;
	}
	const analysis = analyseSms(text);
	if (text === '') warnings.push('The SMS text is empty.');
	if (analysis.encoding === 'UCS-2') {
		const shown = analysis.nonGsmCharacters
			.slice(0, 5)
			.map((c) => JSON.stringify(c))
			.join(', ');
		warnings.push(`Sent as UCS-2 (70 characters a segment instead of 160) because of ${shown}.`);
	}
	if (analysis.segments > maxSegments)
		warnings.push(
			`${analysis.segments} segments: more than the maximum of ${maxSegments}, so Send will refuse it.`,
		);
	return { ...analysis, text, replacements, maxSegments, warnings };
}
