/* What a message says: the templates (fixed parameters or item fields, never expressions, which
 * would eat the {{ }}), the data they read, and the rendering options Render and Send share. */
import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import {
	DEFAULT_STOP_FOOTER,
	type CommercialEmailOptions,
	type EmailContentInput,
	type EmailTemplates,
	type RenderSettings,
	type SmsContentInput,
} from '../../../engine/messaging';
import { parameterReader, readField } from '../../shared/parameters';
import type { FieldLabels } from '../../shared/runner';

const CONTENT_OPERATIONS = ['render', 'send', 'sendOwed'];
// Where each group of fields shows; a field's own condition on another field (templateSource,
// dataFrom, commercial) stays on the field and updateDisplayOptions adds resource and operation.
const CONTENT = { show: { operation: CONTENT_OPERATIONS } };
const EMAIL_CONTENT = { show: { resource: ['email'], operation: CONTENT_OPERATIONS } };
const SMS_CONTENT = { show: { resource: ['sms'], operation: CONTENT_OPERATIONS } };
const EMAIL_SEND = { show: { resource: ['email'], operation: ['send'] } };

const partialsProperty: INodeProperties = {
	displayName: 'Partials',
	name: 'partials',
	type: 'fixedCollection',
	typeOptions: { multipleValues: true },
	default: {},
	placeholder: 'Add Partial',
	description: 'Named snippets a template includes with {{> name}}',
	options: [
		{
			displayName: 'Partial',
			name: 'partial',
			values: [
				{
					displayName: 'Name',
					name: 'name',
					type: 'string',
					default: '',
					placeholder: 'e.g. signature',
				},
				{
					displayName: 'Template',
					name: 'template',
					type: 'string',
					typeOptions: { rows: 4 },
					noDataExpression: true,
					default: '',
				},
			],
		},
	],
};

const localeOption: INodeProperties = {
	displayName: 'Locale',
	name: 'locale',
	type: 'string',
	default: 'en-US',
	placeholder: 'e.g. de-DE',
	description:
		'Default locale of the formatting helpers (formatNumber, formatCurrency, formatDate, plural)',
};

const strictOption: INodeProperties = {
	displayName: 'Strict Variables',
	name: 'strict',
	type: 'boolean',
	default: true,
	description:
		'Whether a variable missing from the data is an error naming it, instead of rendering as empty text',
};

const timeZoneOption: INodeProperties = {
	displayName: 'Time Zone',
	name: 'timeZone',
	type: 'string',
	default: 'UTC',
	placeholder: 'e.g. Europe/Berlin',
	description: 'Default IANA time zone of the formatDate helper',
};

export const contentDescription: INodeProperties[] = [
	...updateDisplayOptions(CONTENT, [
		{
			displayName: 'Template Source',
			name: 'templateSource',
			type: 'options',
			noDataExpression: true,
			options: [
				{
					name: 'Template Parameters',
					value: 'parameters',
					description: 'Write the templates in this node',
				},
				{
					name: 'Input Item Fields',
					value: 'fields',
					description: 'Read the templates from fields of each input item',
				},
			],
			default: 'parameters',
		},
		{
			displayName:
				'Templates use Handlebars: {{firstName}}, {{#if reward}}…{{/if}}, {{formatCurrency amount "EUR"}}. Keep these fields fixed (not expressions): n8n would evaluate the {{ }} itself.',
			name: 'templateNotice',
			type: 'notice',
			default: '',
			displayOptions: { show: { templateSource: ['parameters'] } },
		},
	]),
	...updateDisplayOptions(EMAIL_CONTENT, [
		{
			displayName: 'Subject',
			name: 'subject',
			type: 'string',
			noDataExpression: true,
			default: '',
			required: true,
			placeholder: 'e.g. {{firstName}}, your friend gave you {{formatCurrency reward "USD"}}',
			displayOptions: { show: { templateSource: ['parameters'] } },
		},
		{
			displayName: 'HTML Body',
			name: 'html',
			type: 'string',
			typeOptions: { rows: 10 },
			noDataExpression: true,
			default: '',
			required: true,
			placeholder: '<p>Hi {{firstName}},</p>',
			description: 'Values are HTML-escaped; {{{triple braces}}} insert raw HTML',
			displayOptions: { show: { templateSource: ['parameters'] } },
		},
		{
			displayName: 'Text Body',
			name: 'text',
			type: 'string',
			typeOptions: { rows: 5 },
			noDataExpression: true,
			default: '',
			description: 'Plain-text part; leave empty to derive it from the HTML',
			displayOptions: { show: { templateSource: ['parameters'] } },
		},
	]),
	...updateDisplayOptions(SMS_CONTENT, [
		{
			displayName: 'SMS Body',
			name: 'smsText',
			type: 'string',
			typeOptions: { rows: 4 },
			noDataExpression: true,
			default: '',
			required: true,
			placeholder: 'e.g. {{firstName}}, your code {{code}} gives a friend 20% off',
			displayOptions: { show: { templateSource: ['parameters'] } },
		},
	]),
	...updateDisplayOptions(EMAIL_CONTENT, [
		{
			displayName: 'Subject Field',
			name: 'subjectField',
			type: 'string',
			default: 'subject',
			required: true,
			hint: 'The name of the input field holding the subject template',
			displayOptions: { show: { templateSource: ['fields'] } },
		},
		{
			displayName: 'HTML Field',
			name: 'htmlField',
			type: 'string',
			default: 'html',
			required: true,
			hint: 'The name of the input field holding the HTML template',
			displayOptions: { show: { templateSource: ['fields'] } },
		},
		{
			displayName: 'Text Field',
			name: 'textField',
			type: 'string',
			default: '',
			hint: 'Optional: the input field holding the plain-text template; empty derives the text from the HTML',
			displayOptions: { show: { templateSource: ['fields'] } },
		},
	]),
	...updateDisplayOptions(SMS_CONTENT, [
		{
			displayName: 'SMS Field',
			name: 'smsTextField',
			type: 'string',
			default: 'smsText',
			required: true,
			hint: 'The name of the input field holding the SMS template',
			displayOptions: { show: { templateSource: ['fields'] } },
		},
	]),
	...updateDisplayOptions(CONTENT, [
		{
			displayName: 'Template Data',
			name: 'dataFrom',
			type: 'options',
			options: [
				{ name: 'Whole Input Item', value: 'item' },
				{ name: 'One Field of the Item', value: 'field' },
			],
			default: 'item',
			description: 'What the template variables are read from',
		},
		{
			displayName: 'Data Field',
			name: 'dataField',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'e.g. referral',
			hint: 'The input field holding an object of template variables',
			displayOptions: { show: { dataFrom: ['field'] } },
		},
	]),
	...updateDisplayOptions(EMAIL_CONTENT, [
		{
			displayName: 'Commercial Email',
			name: 'commercial',
			type: 'boolean',
			default: false,
			description:
				'Whether this is marketing email (CAN-SPAM): adds the postal address and an unsubscribe link to the footer, and one-click List-Unsubscribe headers',
		},
		{
			displayName: 'Postal Address',
			name: 'postalAddress',
			type: 'string',
			typeOptions: { rows: 3 },
			default: '',
			required: true,
			placeholder: 'e.g. Acme Inc., 1 Main St, Springfield, IL 62701, USA',
			description: "The sender's physical postal address, printed in the footer",
			displayOptions: { show: { commercial: [true] } },
		},
		{
			displayName: 'Unsubscribe URL',
			name: 'unsubscribeUrl',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'e.g. https://example.com/unsubscribe?token=…',
			description:
				"HTTPS link that unsubscribes this recipient; it must also accept a POST (one-click). With Sign Unsubscribe Link, the page's URL (e.g. your n8n's /webhook/referral/unsubscribe): the node adds the recipient's signed token.",
			displayOptions: { show: { commercial: [true] } },
		},
	]),
	...updateDisplayOptions(EMAIL_SEND, [
		{
			displayName: 'Unsubscribe Link',
			name: 'signedLink',
			type: 'options',
			options: [
				{
					name: 'As Entered',
					value: 'plain',
					description: 'The Unsubscribe URL exactly as entered (an expression per recipient)',
				},
				{
					name: 'Signed for Each Recipient',
					value: 'signed',
					description:
						"Adds a signed token for this recipient (?token=…) to the Unsubscribe URL, made with the Referral Link Secret credential; the page's Unsubscribe operation (Address From: Signed Unsubscribe Link) checks it, so nobody can unsubscribe another person",
				},
			],
			default: 'plain',
			displayOptions: { show: { commercial: [true] } },
		},
	]),
	...updateDisplayOptions(EMAIL_CONTENT, [
		{
			displayName: 'Template Options',
			name: 'emailOptions',
			type: 'collection',
			placeholder: 'Add Option',
			default: {},
			options: [
				{
					displayName: 'Layout',
					name: 'layout',
					type: 'string',
					typeOptions: { rows: 8 },
					noDataExpression: true,
					default: '<html><body>{{{body}}}</body></html>',
					description:
						'HTML wrapper around every message; {{{body}}} marks where the rendered HTML goes',
				},
				localeOption,
				partialsProperty,
				strictOption,
				timeZoneOption,
				{
					displayName: 'Unsubscribe Link Text',
					name: 'unsubscribeLabel',
					type: 'string',
					default: 'Unsubscribe',
					description: 'Text of the footer link in commercial email',
				},
				{
					displayName: 'Unsubscribe Mailbox',
					name: 'unsubscribeMailto',
					type: 'string',
					default: '',
					placeholder: 'e.g. unsubscribe@example.com',
					description:
						'Commercial email: a mailbox for unsubscribe requests, added to List-Unsubscribe',
				},
			],
		},
	]),
	...updateDisplayOptions(SMS_CONTENT, [
		{
			displayName: 'Template Options',
			name: 'smsOptions',
			type: 'collection',
			placeholder: 'Add Option',
			default: {},
			options: [
				localeOption,
				{
					displayName: 'Max Segments',
					name: 'maxSegments',
					type: 'number',
					typeOptions: { minValue: 1, maxValue: 20 },
					default: 3,
					description:
						'Most segments one SMS may take; Send refuses a longer message, Render warns',
				},
				{
					displayName: 'Opt-Out Line',
					name: 'stopFooter',
					type: 'string',
					default: DEFAULT_STOP_FOOTER,
					description:
						'Appended on its own line unless the text already contains it. Marketing texts get "Reply STOP to opt out" without this option; add it empty to send none.',
				},
				partialsProperty,
				{
					displayName: 'Replace Smart Characters',
					name: 'replaceSmartCharacters',
					type: 'boolean',
					default: true,
					description:
						'Whether to replace curly quotes, long dashes and odd spaces when that keeps the SMS in GSM-7 (160 characters a segment instead of 70)',
				},
				strictOption,
				timeZoneOption,
			],
		},
	]),
];

/** Engine field names → the labels the user sees, for error messages. */
export function contentLabels(
	channel: 'email' | 'sms',
	source: string,
	dataFrom: string,
): FieldLabels {
	const fromFields = source === 'fields';
	return {
		subject: fromFields ? 'Subject Field' : 'Subject',
		html: fromFields ? 'HTML Field' : 'HTML Body',
		text: fromFields ? 'Text Field' : 'Text Body',
		'SMS text': fromFields ? 'SMS Field' : 'SMS Body',
		templates: 'Template Source',
		layout: 'Template Options › Layout',
		partials: 'Template Options › Partials',
		data: dataFrom === 'field' ? 'Data Field' : 'Template Data',
		maxSegments: channel === 'sms' ? 'Template Options › Max Segments' : 'maxSegments',
		postalAddress: 'Postal Address',
		unsubscribeUrl: 'Unsubscribe URL',
		linkSecret: 'Credential to connect with (Referral Link Secret)',
		unsubscribeMailto: 'Template Options › Unsubscribe Mailbox',
	};
}

interface PartialsValue {
	partial?: Array<{ name?: string; template?: string }>;
}

function partialsFrom(value: PartialsValue | undefined): Record<string, string> | undefined {
	const list = value?.partial ?? [];
	if (list.length === 0) return undefined;
	const partials: Record<string, string> = {};
	for (const { name, template } of list) partials[String(name ?? '').trim()] = template ?? '';
	return partials;
}

function settingsFrom(options: IDataObject): Omit<RenderSettings, 'partials'> {
	const settings: Omit<RenderSettings, 'partials'> = { strict: options.strict === true };
	if (typeof options.locale === 'string' && options.locale.trim() !== '')
		settings.locale = options.locale.trim();
	if (typeof options.timeZone === 'string' && options.timeZone.trim() !== '')
		settings.timeZone = options.timeZone.trim();
	return settings;
}

/** Reads a template from an item field: a missing field is an empty template, anything but text is refused by the engine. */
function fieldTemplate(json: IDataObject, path: string): string {
	const value = readField(json, path);
	return (value === undefined || value === null ? '' : value) as string;
}

export interface ContentReaders {
	source: string;
	dataFrom: string;
	data(item: INodeExecutionData, itemIndex: number): unknown;
}

function dataReader(ctx: IExecuteFunctions): ContentReaders {
	const source = ctx.getNodeParameter('templateSource', 0, 'parameters') as string;
	const dataFrom = ctx.getNodeParameter('dataFrom', 0, 'item') as string;
	const dataFieldFor = parameterReader<string>(ctx, 'dataField', '');
	return {
		source,
		dataFrom,
		data: (item, itemIndex) =>
			dataFrom === 'field' ? readField(item.json, dataFieldFor(itemIndex)) : item.json,
	};
}

export interface EmailContentReader extends ContentReaders {
	content(item: INodeExecutionData, itemIndex: number): EmailContentInput;
}

/** Reads the email templates and options once per execution; only item fields and expressions are read per item. */
export function emailContentReader(ctx: IExecuteFunctions): EmailContentReader {
	const readers = dataReader(ctx);
	const optionsFor = parameterReader<IDataObject>(ctx, 'emailOptions', {});
	const commercialFor = parameterReader<boolean>(ctx, 'commercial', false);
	const postalAddressFor = parameterReader<string>(ctx, 'postalAddress', '');
	const unsubscribeUrlFor = parameterReader<string>(ctx, 'unsubscribeUrl', '');
	let templatesFor: (item: INodeExecutionData) => EmailTemplates;
	if (readers.source === 'fields') {
		const subjectField = ctx.getNodeParameter('subjectField', 0, 'subject') as string;
		const htmlField = ctx.getNodeParameter('htmlField', 0, 'html') as string;
		const textField = (ctx.getNodeParameter('textField', 0, '') as string).trim();
		templatesFor = (item) => ({
			subject: fieldTemplate(item.json, subjectField),
			html: fieldTemplate(item.json, htmlField),
			...(textField !== '' ? { text: fieldTemplate(item.json, textField) } : {}),
		});
	} else {
		const fixed: EmailTemplates = {
			subject: ctx.getNodeParameter('subject', 0, '') as string,
			html: ctx.getNodeParameter('html', 0, '') as string,
			text: ctx.getNodeParameter('text', 0, '') as string,
		};
		templatesFor = () => fixed;
	}
	return {
		...readers,
		content(item, itemIndex) {
			const options = optionsFor(itemIndex);
			const templates: EmailTemplates = { ...templatesFor(item) };
			if (typeof options.layout === 'string' && options.layout.trim() !== '')
				templates.layout = options.layout;
			const partials = partialsFrom(options.partials as PartialsValue | undefined);
			if (partials) templates.partials = partials;
			const input: EmailContentInput = {
				templates,
				data: readers.data(item, itemIndex),
				settings: settingsFrom(options),
			};
			if (commercialFor(itemIndex)) {
				const commercial: CommercialEmailOptions = {
					postalAddress: postalAddressFor(itemIndex),
					unsubscribeUrl: unsubscribeUrlFor(itemIndex),
				};
				if (typeof options.unsubscribeMailto === 'string')
					commercial.unsubscribeMailto = options.unsubscribeMailto;
				if (typeof options.unsubscribeLabel === 'string')
					commercial.unsubscribeLabel = options.unsubscribeLabel;
				input.commercial = commercial;
			}
			return input;
		},
	};
}

export interface SmsContentReader extends ContentReaders {
	content(item: INodeExecutionData, itemIndex: number): SmsContentInput;
}

/**
 * `optOutByDefault`: marketing texts carry the opt-out line unless the user set the Opt-Out Line
 * option (an empty one turns it off); other texts only when the option is set.
 */
export function smsContentReader(
	ctx: IExecuteFunctions,
	{ optOutByDefault = false } = {},
): SmsContentReader {
	const readers = dataReader(ctx);
	const optionsFor = parameterReader<IDataObject>(ctx, 'smsOptions', {});
	let templateFor: (item: INodeExecutionData) => string;
	if (readers.source === 'fields') {
		const smsTextField = ctx.getNodeParameter('smsTextField', 0, 'smsText') as string;
		templateFor = (item) => fieldTemplate(item.json, smsTextField);
	} else {
		const fixed = ctx.getNodeParameter('smsText', 0, '') as string;
		templateFor = () => fixed;
	}
	return {
		...readers,
		content(item, itemIndex) {
			const options = optionsFor(itemIndex);
			const input: SmsContentInput = {
				template: templateFor(item),
				data: readers.data(item, itemIndex),
				settings: settingsFrom(options),
				replaceSmartCharacters: options.replaceSmartCharacters !== false,
			};
			const partials = partialsFrom(options.partials as PartialsValue | undefined);
			if (partials) input.partials = partials;
			if (typeof options.stopFooter === 'string' && options.stopFooter.trim() !== '')
				input.stopFooter = options.stopFooter;
			else if (options.stopFooter === undefined && optOutByDefault) input.stopFooter = true;
			if (options.maxSegments !== undefined) input.maxSegments = Number(options.maxSegments);
			return input;
		},
	};
}
