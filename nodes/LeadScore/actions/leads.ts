import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { isEngineError, EngineError } from '../../../engine/shared/errors';
import { parseDate } from '../../../engine/scoring';
import { readField } from '../../shared/parameters';
import {
	inputSourceProperty,
	namedValuesProperty,
	namedValuesReader,
	type InputSource,
} from '../../shared/inputs';

/**
 * Values mode: the lead is not the input item but the attributes given here, one per row, each a
 * name the rules read (dots make nested names: company.employees) and its value, typed or from an
 * expression or an AI Agent; a value keeps its type, so a number stays a number.
 */
export const leadAttributesProperties: INodeProperties[] = [
	{
		...inputSourceProperty,
		options: [
			{
				name: 'Item Fields',
				value: 'fields',
				description:
					'Each input item is a lead; the rules read its fields by name. Fastest for many leads.',
			},
			{
				name: 'Values',
				value: 'values',
				description:
					"The lead's attributes are given one by one below: typed, mapped with expressions, or filled by an AI Agent ({{ $fromAI('employees') }})",
			},
		],
	},
	namedValuesProperty({
		name: 'leadAttributes',
		displayName: 'Lead Attributes',
		description:
			'The lead itself: one row per field your rules or model read, e.g. Name company.employees, Value {{ $fromAI("employees", "", "number") }}',
		namePlaceholder: 'e.g. company.employees',
	}),
];

/**
 * Each item's lead: the item itself (Item Fields, no cost), or the Lead Attributes (Values), built
 * once per execution when they hold no expression.
 */
export function leadReader(
	ctx: IExecuteFunctions,
	source: InputSource,
): (itemIndex: number, json: IDataObject) => IDataObject {
	if (source === 'fields') return (_itemIndex, json) => json;
	const attributesFor = namedValuesReader(ctx, 'leadAttributes');
	return (itemIndex) => {
		const lead = attributesFor(itemIndex);
		if (lead === undefined) {
			throw new EngineError(
				'required',
				"Lead Attributes is empty: pass the lead's attributes, one per field the rules read",
				{
					field: 'leadAttributes',
					hint: 'Add a row to Lead Attributes for each field your rules read, e.g. Name country, Value {{ $fromAI("country") }}',
				},
			);
		}
		return lead;
	};
}

/** How an error names the lead: by its ID field when one is set and present, else by item number. */
export function leadLabel(
	lead: IDataObject,
	idField: string | undefined,
	itemIndex: number,
): string | number {
	if (!idField) return itemIndex;
	const id = readField(lead, idField);
	if (typeof id !== 'string' && typeof id !== 'number') return itemIndex;
	const text = String(id);
	return `Lead "${text.length > 40 ? text.slice(0, 37) + '...' : text}" (item ${itemIndex})`;
}

/**
 * The scoring time for each item from the "Score As Of" option: empty means when the execution
 * started. Parsed once per distinct value, not once per lead; a value that is no date goes to the
 * engine as it is, whose message says what a date may look like.
 */
export function scoringTimeReader(startedAt: number): (value: unknown) => string | number | Date {
	let lastValue: unknown = '';
	let lastTime: string | number | Date = startedAt;
	return (value) => {
		if (value === lastValue) return lastTime;
		lastValue = value;
		let given = value;
		if (given === undefined || given === null || given === '') given = startedAt;
		// An expression such as {{ $now }} hands over a Luxon DateTime.
		else if (
			typeof given === 'object' &&
			!(given instanceof Date) &&
			typeof (given as { toISO?: unknown }).toISO === 'function'
		) {
			given = (given as { toISO: () => string }).toISO();
		}
		const ms = parseDate(given);
		lastTime = ms === ms ? ms : (given as string);
		return lastTime;
	};
}

/**
 * Aggregate operations read all items at once; the engine names a bad item in `details.item`,
 * the aggregate runner pairs the error with `details.index`.
 */
export function pinItem(error: unknown): unknown {
	if (
		!isEngineError(error) ||
		typeof error.details?.item !== 'number' ||
		error.details.index !== undefined
	)
		return error;
	return new EngineError(error.code, error.message, {
		field: error.field,
		details: { ...error.details, index: error.details.item },
		cause: error,
	});
}
