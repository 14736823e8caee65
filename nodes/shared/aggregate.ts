import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	IPairedItemData,
	NodeExecutionHint,
} from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import { isEngineError } from '../../engine/shared/errors';
import { type FieldLabels, toJson, toNodeError } from './runner';

/** One output item of an all-items computation and the input items it was made from. */
export interface AggregateItem {
	json: object;
	/** Input item positions it comes from; leave out for "all of them" (a summary). */
	from?: readonly number[];
}

export interface AggregateResult {
	items: AggregateItem[];
	/** Shown in the output pane, e.g. rows left out and why. */
	hints?: NodeExecutionHint[];
}

/**
 * The all-items counterpart of runPerItem, for nodes that turn every input item into per-customer
 * rows and summaries: one call of `compute` over all items, lineage on every output item, engine
 * errors as NodeOperationErrors (naming the item when the engine names one), and with Continue On
 * Fail a single output item carrying the error.
 */
export async function runAggregate(
	ctx: IExecuteFunctions,
	compute: (items: INodeExecutionData[]) => Promise<AggregateResult> | AggregateResult,
	fieldLabels: FieldLabels = {},
): Promise<INodeExecutionData[]> {
	const items = ctx.getInputData();
	try {
		const result = await compute(items);
		if (result.hints && result.hints.length > 0) ctx.addExecutionHints(...result.hints);
		return result.items.map(({ json, from }) => ({
			json: toJson(json),
			pairedItem: pairedWith(from ?? allPositions(items.length)),
		}));
	} catch (error) {
		const itemIndex = namedItem(error, items.length);
		const nodeError = toAggregateError(ctx, error, itemIndex, fieldLabels);
		if (!ctx.continueOnFail()) throw nodeError;
		const json: IDataObject = { message: nodeError.message };
		if (isEngineError(error)) {
			json.code = error.code;
			if (error.field) {
				json.field = error.field;
				json.parameter = fieldLabels[error.field] ?? error.field;
			}
			if (itemIndex !== undefined) json.item = itemIndex;
		}
		return [
			{
				json: { error: json },
				pairedItem: pairedWith(itemIndex === undefined ? allPositions(items.length) : [itemIndex]),
			},
		];
	}
}

/** An error about the whole input names no item; one the engine pins on an item (details.index) does. */
export function toAggregateError(
	ctx: IExecuteFunctions,
	error: unknown,
	itemIndex: number | undefined,
	fieldLabels: FieldLabels = {},
): NodeOperationError {
	if (itemIndex !== undefined) return toNodeError(ctx, error, itemIndex, fieldLabels);
	if (error instanceof NodeOperationError) return error;
	if (isEngineError(error)) {
		const label = error.field ? (fieldLabels[error.field] ?? error.field) : undefined;
		return new NodeOperationError(ctx.getNode(), error.message, {
			description: label ? `Check "${label}".` : undefined,
		});
	}
	return new NodeOperationError(
		ctx.getNode(),
		error instanceof Error ? error.message : String(error),
	);
}

function namedItem(error: unknown, count: number): number | undefined {
	if (!isEngineError(error)) return undefined;
	const index = error.details?.index;
	return typeof index === 'number' && Number.isInteger(index) && index >= 0 && index < count
		? index
		: undefined;
}

function allPositions(count: number): number[] {
	return Array.from({ length: count }, (_, i) => i);
}

function pairedWith(positions: readonly number[]): IPairedItemData | IPairedItemData[] {
	if (positions.length === 1) return { item: positions[0] };
	return positions.map((item) => ({ item }));
}
