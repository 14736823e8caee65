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
	/**
	 * Input item positions it comes from, as given; leave out for "all of them" (a summary), which
	 * pairs it with a bounded set (see `SummaryPairing`).
	 */
	from?: readonly number[];
}

export interface AggregateResult {
	items: AggregateItem[];
	/** Shown in the output pane, e.g. rows left out and why. */
	hints?: NodeExecutionHint[];
}

/**
 * Most input items one summary item is paired with. n8n stores every pairing with the execution:
 * a summary of 2,000,000 rows paired with each of them held 2,000,000 pairing objects in memory and
 * in the saved execution, far more than the summary itself.
 */
export const SUMMARY_PAIRING_LIMIT = 1_000;

/**
 * The input items a summary item is paired with: all of them while there are at most
 * SUMMARY_PAIRING_LIMIT, else the first SUMMARY_PAIRING_LIMIT. (Lineage by upstream item cannot be
 * told apart here: n8n hands a node its input items paired with their own positions.) Expressions
 * such as `$('Trigger').item` still resolve through the first items, as they would through all.
 */
export class SummaryPairing {
	private readonly first: number[] = [];

	/** Adds an input position; give them in ascending order. */
	add(position: number): void {
		if (this.first.length < SUMMARY_PAIRING_LIMIT) this.first.push(position);
	}

	/** The positions to pair with; empty when none was added. */
	positions(): number[] {
		return this.first;
	}

	/** The pairing of a summary of `count` input items. */
	static ofAll(count: number): number[] {
		return Array.from({ length: Math.min(count, SUMMARY_PAIRING_LIMIT) }, (_, i) => i);
	}
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
			pairedItem: pairedWith(from ?? SummaryPairing.ofAll(items.length)),
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
				pairedItem: pairedWith(
					itemIndex === undefined ? SummaryPairing.ofAll(items.length) : [itemIndex],
				),
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

function pairedWith(positions: readonly number[]): IPairedItemData | IPairedItemData[] {
	if (positions.length === 1) return { item: positions[0] };
	return positions.map((item) => ({ item }));
}
