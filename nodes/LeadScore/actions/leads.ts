import type { IDataObject } from 'n8n-workflow';
import { isEngineError, EngineError } from '../../../engine/errors';
import { readField } from '../../shared/parameters';

/** How an error names the lead: by its ID field when one is set and present, else by item number. */
export function leadLabel(lead: IDataObject, idField: string | undefined, itemIndex: number): string | number {
	if (!idField) return itemIndex;
	const id = readField(lead, idField);
	if (typeof id !== 'string' && typeof id !== 'number') return itemIndex;
	const text = String(id);
	return `Lead "${text.length > 40 ? text.slice(0, 37) + '...' : text}" (item ${itemIndex})`;
}

/** The scoring time from the "Score As Of" option: empty means when the execution started. */
export function scoringTime(value: unknown, startedAt: number): string | number | Date {
	if (value === undefined || value === null || value === '') return startedAt;
	// An expression such as {{ $now }} hands over a Luxon DateTime.
	if (typeof value === 'object' && !(value instanceof Date) && typeof (value as { toISO?: unknown }).toISO === 'function') {
		return (value as { toISO: () => string }).toISO();
	}
	// Anything else goes to the engine, whose message says what a date may look like.
	return value as string;
}

/**
 * Aggregate operations read all items at once; the engine names a bad item in `details.item`,
 * the aggregate runner pairs the error with `details.index`.
 */
export function pinItem(error: unknown): unknown {
	if (!isEngineError(error) || typeof error.details?.item !== 'number' || error.details.index !== undefined) return error;
	return new EngineError(error.code, error.message, { field: error.field, details: { ...error.details, index: error.details.item }, cause: error });
}
