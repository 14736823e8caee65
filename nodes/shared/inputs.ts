import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { EngineError } from '../../engine/shared/errors';
import { parameterReader, readField } from './parameters';

/**
 * Where an operation's inputs come from. Item Fields (the default, what saved workflows mean): each
 * input parameter names a field of the incoming item (`Code Field = code`), read once per
 * execution, which keeps 50,000-item runs fast. Values: each input parameter holds the value itself,
 * typed or mapped with an expression, such as the `{{ $fromAI('code') }}` an AI Agent tool fills in.
 * One switch per operation swaps every Field parameter for its Value twin, so the form never shows both.
 */
export type InputSource = 'fields' | 'values';

export const INPUT_SOURCE = 'inputSource';

export const inputSourceProperty: INodeProperties = {
	displayName: 'Read Inputs From',
	name: INPUT_SOURCE,
	type: 'options',
	noDataExpression: true,
	options: [
		{
			name: 'Item Fields',
			value: 'fields',
			description:
				'Each input names the field of the incoming item that holds it (e.g. Code Field = code); fastest for many items',
		},
		{
			name: 'Values',
			value: 'values',
			description:
				"Each input is the value itself: typed, mapped with an expression, or filled by an AI Agent ({{ $fromAI('code') }})",
		},
	],
	default: 'fields',
};

/** The operation's input source; not an expression, so read once per execution. */
export function inputSourceOf(ctx: IExecuteFunctions): InputSource {
	return ctx.getNodeParameter(INPUT_SOURCE, 0, 'fields') === 'values' ? 'values' : 'fields';
}

/** The Value twin of a Field parameter. */
export interface ValueTwin {
	/** Parameter name, e.g. `code`. */
	name: string;
	/** What the user sees, e.g. `Code`. */
	displayName: string;
	/** What to pass, for the description and errors, e.g. `the referral code`. */
	holding: string;
	placeholder?: string;
	/** Overrides the description built from `holding`. */
	description?: string;
	/** Whether an empty value is an error (the Field parameter's `required` otherwise). */
	required?: boolean;
}

/** An input parameter: its Field form (as saved workflows hold it) and its Value twin. */
export interface InputParameter {
	field: INodeProperties;
	value: ValueTwin;
}

/**
 * Field parameters are hidden in Values mode rather than shown in Item Fields mode: where the switch
 * is absent (an operation without it, a workflow saved before it) they show, and mean what they meant.
 */
function withShow(
	displayOptions: INodeProperties['displayOptions'],
	source: InputSource,
): INodeProperties['displayOptions'] {
	if (source === 'fields')
		return { ...displayOptions, hide: { ...displayOptions?.hide, [INPUT_SOURCE]: ['values'] } };
	return { ...displayOptions, show: { ...displayOptions?.show, [INPUT_SOURCE]: ['values'] } };
}

function valueDescription(value: ValueTwin): string {
	return value.description ?? `${capitalise(value.holding)} itself, e.g. from an expression`;
}

function capitalise(text: string): string {
	return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The Field parameter (shown for Item Fields) and its Value twin (shown for Values). */
export function inputProperties(input: InputParameter): INodeProperties[] {
	const { field, value } = input;
	return [
		{ ...field, displayOptions: withShow(field.displayOptions, 'fields') },
		{
			displayName: value.displayName,
			name: value.name,
			type: 'string',
			default: '',
			required: value.required ?? field.required ?? false,
			...(value.placeholder ? { placeholder: value.placeholder } : {}),
			description: valueDescription(value),
			displayOptions: withShow(field.displayOptions, 'values'),
		},
	];
}

/** Each item's input: `(itemIndex, json) => value`. */
export type InputReader = (itemIndex: number, json: IDataObject) => unknown;

/**
 * Reads an input parameter in the operation's source. Item Fields: the field name is read once per
 * execution (per item only when it is an expression), then looked up in each item. Values: the
 * parameter itself, per item when it is an expression; the value keeps its type (a number stays one).
 */
export function inputReader(
	ctx: IExecuteFunctions,
	input: InputParameter,
	source: InputSource = inputSourceOf(ctx),
): InputReader {
	if (source === 'values') {
		const valueFor = parameterReader<unknown>(ctx, input.value.name, '');
		return (itemIndex) => valueFor(itemIndex);
	}
	const pathFor = parameterReader<string>(ctx, input.field.name, fieldDefault(input.field));
	return (itemIndex, json) => readField(json, pathFor(itemIndex));
}

function fieldDefault(field: INodeProperties): string {
	return typeof field.default === 'string' ? field.default : '';
}

/** Whether a value counts as not given: undefined, null or empty (or blank) text. */
export function isEmptyInput(value: unknown): boolean {
	return (
		value === undefined || value === null || (typeof value === 'string' && value.trim() === '')
	);
}

/** The error for an empty Value-mode input: names the parameter and says what to pass. */
export function emptyValueError(value: ValueTwin, field = value.name): EngineError {
	return new EngineError('required', `${value.displayName} is empty: pass ${value.holding}`, {
		field,
		hint: `Set ${value.displayName} to ${value.holding}, e.g. with an expression or {{ $fromAI('${value.name}') }}`,
	});
}

/** The error for a Value-mode input of the wrong kind (a list, an object) where text or a number is wanted. */
export function wrongValueError(value: ValueTwin, got: unknown, field = value.name): EngineError {
	return new EngineError(
		'invalid_input',
		`${value.displayName} must be text or a number, got ${describeValue(got)}: pass ${value.holding}`,
		{ field },
	);
}

export function describeValue(value: unknown): string {
	if (value === null) return 'null';
	if (Array.isArray(value)) return 'a list';
	return typeof value === 'string' ? (value === '' ? 'empty text' : 'text') : typeof value;
}

/** A collection of field names (e.g. Input Fields) and its Value twin (e.g. Input Values). */
export interface InputCollection {
	field: INodeProperties;
	/** The twin collection's name and title, e.g. `inputValues`, `Input Values`. */
	name: string;
	displayName: string;
	description?: string;
}

/** The Value form of a field option: `Email Field` → `Email`, text, empty by default. */
function valueOption(option: INodeProperties): INodeProperties {
	const displayName = option.displayName.replace(/ Field$/, '');
	return {
		displayName,
		name: option.name,
		type: 'string',
		default: '',
		description: `The ${displayName.toLowerCase()} itself, e.g. from an expression`,
	};
}

/** The Field collection (shown for Item Fields) and its Value twin with one value per field option. */
export function inputCollectionProperties(input: InputCollection): INodeProperties[] {
	const { field } = input;
	const options = (field.options ?? []) as INodeProperties[];
	return [
		{ ...field, displayOptions: withShow(field.displayOptions, 'fields') },
		{
			displayName: input.displayName,
			name: input.name,
			type: 'collection',
			placeholder: 'Add Value',
			default: {},
			description:
				input.description ??
				'The values themselves, e.g. from expressions; leave one out and it is not used',
			options: options.map((option) => (option.type === 'string' ? valueOption(option) : option)),
			displayOptions: withShow(field.displayOptions, 'values'),
		},
	];
}

/**
 * Reads a collection input in the operation's source: each role's value, absent when empty.
 * Item Fields: the field names (the defaults overridden by the collection) looked up in the item.
 * Values: the twin collection's entries themselves.
 */
export function inputCollectionReader<K extends string>(
	ctx: IExecuteFunctions,
	input: { field: string; value: string },
	defaults: Record<K, string>,
	source: InputSource = inputSourceOf(ctx),
): (json: IDataObject, itemIndex: number) => Partial<Record<K, unknown>> {
	const roles = Object.keys(defaults) as K[];
	if (source === 'values') {
		const read = parameterReader<Partial<Record<K, unknown>>>(ctx, input.value, {});
		return (_json, itemIndex) => {
			const values = read(itemIndex);
			const out: Partial<Record<K, unknown>> = {};
			for (const role of roles) {
				const value = values[role];
				if (value !== undefined && value !== null && value !== '') out[role] = value;
			}
			return out;
		};
	}
	const read = parameterReader<Partial<Record<K, string>>>(ctx, input.field, {});
	return (json, itemIndex) => {
		const names = { ...defaults, ...read(itemIndex) };
		const out: Partial<Record<K, unknown>> = {};
		for (const role of roles) {
			const name = names[role];
			if (typeof name !== 'string' || name === '') continue;
			const value = readField(json, name);
			if (value !== undefined && value !== null && value !== '') out[role] = value;
		}
		return out;
	};
}

/**
 * Error labels in the operation's source: in Values mode the engine's field names map to the Value
 * parameters (`email` → `Email`), in Item Fields mode to the Field ones, as before.
 */
export function labelsFor(
	source: InputSource,
	fieldLabels: Record<string, string>,
	valueLabels: Record<string, string>,
): Record<string, string> {
	return source === 'values' ? { ...fieldLabels, ...valueLabels } : fieldLabels;
}

/** Rows of name and value, as a fixed collection stores them. */
interface NamedValues {
	entry?: Array<{ name?: unknown; value?: unknown }>;
}

/**
 * An object given in Values mode as rows of name and value (Lead Attributes, Template Values): each
 * name a field the rules or template read (dots make nested names, e.g. company.employees), each
 * value typed or from an expression or an AI Agent; a value keeps its type.
 */
export function namedValuesProperty(options: {
	name: string;
	displayName: string;
	description: string;
	namePlaceholder: string;
	displayOptions?: INodeProperties['displayOptions'];
}): INodeProperties {
	return {
		displayName: options.displayName,
		name: options.name,
		type: 'fixedCollection',
		typeOptions: { multipleValues: true },
		placeholder: 'Add Value',
		default: {},
		description: options.description,
		displayOptions: withShow(options.displayOptions, 'values'),
		options: [
			{
				displayName: 'Value',
				name: 'entry',
				values: [
					{
						displayName: 'Name',
						name: 'name',
						type: 'string',
						default: '',
						placeholder: options.namePlaceholder,
						description: 'The field name it is read by; dots make nested names',
					},
					{
						displayName: 'Value',
						name: 'value',
						type: 'string',
						default: '',
						description: 'The value itself, e.g. from an expression; a number stays a number',
					},
				],
			},
		],
	};
}

/**
 * Each item's object from a named-values parameter: built once per execution when the rows hold no
 * expression, per item otherwise. Rows without a name are left out, empty values too; `undefined`
 * when no row has a name.
 */
export function namedValuesReader(
	ctx: IExecuteFunctions,
	name: string,
): (itemIndex: number) => IDataObject | undefined {
	const rowsFor = parameterReader<NamedValues>(ctx, name, {});
	let last: { rows: NamedValues; object: IDataObject | undefined } | undefined;
	return (itemIndex) => {
		const rows = rowsFor(itemIndex);
		if (last?.rows !== rows) last = { rows, object: objectFrom(rows) };
		return last.object;
	};
}

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

function objectFrom(rows: NamedValues): IDataObject | undefined {
	const object: IDataObject = {};
	let named = 0;
	for (const row of rows.entry ?? []) {
		const parts = (typeof row.name === 'string' ? row.name : '')
			.split('.')
			.map((p) => p.trim())
			.filter((p) => p !== '');
		if (parts.length === 0) continue;
		named++;
		if (parts.some((p) => FORBIDDEN.has(p))) continue;
		const value = row.value;
		if (value === undefined || value === null || value === '') continue;
		let target = object;
		for (const part of parts.slice(0, -1)) {
			const next = target[part];
			if (next === null || typeof next !== 'object' || Array.isArray(next)) target[part] = {};
			target = target[part] as IDataObject;
		}
		target[parts[parts.length - 1]] = value;
	}
	return named === 0 ? undefined : object;
}
