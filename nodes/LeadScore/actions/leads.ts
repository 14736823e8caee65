import type { IDataObject } from 'n8n-workflow';
import { isEngineError, EngineError } from '../../../engine/shared/errors';
import { parseDate } from '../../../engine/scoring';
import { readField } from '../../shared/parameters';

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
