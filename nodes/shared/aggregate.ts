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

/**
 * Most input items one summary item is paired with. n8n stores every pairing with the execution:
 * a summary of 2,000,000 rows paired with each of them took 2,000,000 objects in memory and in the
 * saved execution, more than the summary itself by far.
 */
export const SUMMARY_PAIRING_LIMIT = 1_000;

/**
 * The input items a summary item is paired with: all of them while there are at most
 * SUMMARY_PAIRING_LIMIT; beyond that, the first input item of each distinct upstream pairing (the
 * item each input came from), at most SUMMARY_PAIRING_LIMIT of them. Rows read from one query or
 * file all come from one upstream item, so `$('Earlier Node').item` resolves through the summary
 * as it did, while the execution stores one pairing instead of millions.
 */
export class SummaryPairing {
	private readonly first: number[] = [];
	private readonly representatives: number[] = [];
	private readonly lineages = new Set<string | number>();
	private count = 0;

	constructor(private readonly items: readonly INodeExecutionData[]) {}

	/** Adds input positions in ascending order. */
	add(position: number): void {
		this.count++;
		if (this.first.length <= SUMMARY_PAIRING_LIMIT) this.first.push(position);
		if (this.lineages.size >= SUMMARY_PAIRING_LIMIT) return;
		const lineage = lineageOf(this.items[position]?.pairedItem);
		if (this.lineages.has(lineage)) return;
		this.lineages.add(lineage);
		this.representatives.push(position);
	}

	/** The positions to pair with; empty when none was added. */
	positions(): number[] {
		return this.count <= SUMMARY_PAIRING_LIMIT ? this.first : this.representatives;
	}

	/** The pairing of a summary of all `items`. */
	static ofAll(items: readonly INodeExecutionData[]): number[] {
		const pairing = new SummaryPairing(items);
		for (let i = 0; i < items.length; i++) pairing.add(i);
		return pairing.positions();
	}
}

/** Where an input item came from, as one comparable value: (input, item) of its own pairing. */
function lineageOf(paired: INodeExecutionData['pairedItem']): string | number {
	if (paired === undefined) return -1;
	if (typeof paired === 'number') return paired;
	if (!Array.isArray(paired)) return paired.input ? `${paired.input}:${paired.item}` : paired.item;
	return paired.map((p) => `${p.input ?? 0}:${p.item}`).join(',');
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
			pairedItem: pairedWith(from ?? SummaryPairing.ofAll(items)),
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
				pairedItem: pairedWith(itemIndex === undefined ? SummaryPairing.ofAll(items) : [itemIndex]),
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
