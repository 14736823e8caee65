import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import type { LedgerStore } from '../../engine/ledger';
import { isEngineError } from '../../engine/shared/errors';
import { isToolCall, toolError, toolResult } from './tool';

/** What an operation answers for one item: the engine's typed results are plain JSON records. */
export type ItemResult = object | readonly object[];

/** The one place an engine result becomes an n8n item's JSON (engine results are plain, serialisable records). */
export function toJson(value: object): IDataObject {
	return value as IDataObject;
}

/** Maps the engine's field names to the labels the user sees in the node, for error messages. */
export type FieldLabels = Record<string, string>;

/** How many items' ledger writes commit in one transaction (runPerItem with `batch`). */
export const BATCH_ITEMS = 200;

export interface PerItemOptions {
	/**
	 * The ledger whose writes the items make: chunks of BATCH_ITEMS items commit in one ledger
	 * transaction instead of one each, every item in its own savepoint (a failing item's writes are
	 * undone alone). For operations whose items only read and write that ledger (nothing sent, no
	 * outside call), where one transaction per chunk means the same as one per item.
	 */
	batch?: LedgerStore;
}

type Outcome = { result: ItemResult } | { error: unknown } | undefined;

/**
 * The one per-item loop every operation uses: call `handle` for each input item, pair every
 * output item with its input, turn engine errors into NodeOperationErrors that name the item and
 * the parameter, and with Continue On Fail keep the failing item (with its error) in the output.
 * Without Continue On Fail the first failure stops the node: the items before it keep their
 * writes (also in a batch: its chunk commits without the failed item's writes), later items do not run.
 */
export async function runPerItem(
	ctx: IExecuteFunctions,
	handle: (item: INodeExecutionData, itemIndex: number) => Promise<ItemResult> | ItemResult,
	fieldLabels: FieldLabels = {},
	options: PerItemOptions = {},
): Promise<INodeExecutionData[]> {
	const items = ctx.getInputData();
	const continueOnFail = ctx.continueOnFail();
	const settled: Outcome[] = new Array(items.length);
	const settle = async (itemIndex: number, run = <T>(work: () => Promise<T>) => work()) => {
		try {
			settled[itemIndex] = {
				result: await run(async () => await handle(items[itemIndex], itemIndex)),
			};
			return true;
		} catch (error) {
			settled[itemIndex] = { error };
			return continueOnFail;
		}
	};
	const ledger = options.batch;
	if (ledger === undefined || items.length < 2) {
		for (let itemIndex = 0; itemIndex < items.length; itemIndex++)
			if (!(await settle(itemIndex))) break;
	} else {
		for (let start = 0; start < items.length; start += BATCH_ITEMS) {
			const end = Math.min(items.length, start + BATCH_ITEMS);
			let goOn = true;
			try {
				// Run again as a whole after a lock conflict: only the last run's outcomes count.
				goOn = await ledger.batch(async (item) => {
					settled.fill(undefined, start, end);
					for (let itemIndex = start; itemIndex < end; itemIndex++)
						if (!(await settle(itemIndex, item))) return false;
					return true;
				});
			} catch (error) {
				// The chunk did not commit: none of its items' writes happened.
				settled.fill({ error }, start, end);
				goOn = continueOnFail;
			}
			if (!goOn) break;
		}
	}
	const output: INodeExecutionData[] = [];
	const shape = outputShaper(ctx);
	for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
		const outcome = settled[itemIndex];
		if (outcome === undefined) break;
		if ('result' in outcome) {
			const { result } = outcome;
			for (const json of Array.isArray(result) ? (result as readonly object[]) : [result])
				output.push({
					json: shape.result(json, items[itemIndex]),
					pairedItem: { item: itemIndex },
				});
			continue;
		}
		const nodeError = shape.error(outcome.error, items[itemIndex], itemIndex, fieldLabels);
		if (!continueOnFail) throw nodeError;
		output.push({
			json: shape.failed(items[itemIndex], errorJson(outcome.error, nodeError, fieldLabels)),
			pairedItem: { item: itemIndex },
		});
	}
	return output;
}

/**
 * How results and errors become output: in an ordinary run as the operation made them; in a tool
 * call of the AI Agent (issue #19) the result only, nothing copied from the input item (the
 * agent's item, a trigger's headers included, never reaches the model), and errors in the
 * caller's words (the argument to pass), not the workflow builder's.
 */
function outputShaper(ctx: IExecuteFunctions) {
	const tool = isToolCall(ctx);
	return {
		result: (json: object, item: INodeExecutionData): IDataObject =>
			tool ? toolResult(json, item.json) : toJson(json),
		error: (
			error: unknown,
			item: INodeExecutionData,
			itemIndex: number,
			fieldLabels: FieldLabels,
		): NodeOperationError =>
			tool
				? toolError(ctx, item.json, error, itemIndex)
				: toNodeError(ctx, error, itemIndex, fieldLabels),
		failed: (item: INodeExecutionData, error: IDataObject): IDataObject =>
			tool ? { error } : { ...item.json, error },
	};
}

export function toNodeError(
	ctx: IExecuteFunctions,
	error: unknown,
	itemIndex: number,
	fieldLabels: FieldLabels = {},
): NodeOperationError {
	if (error instanceof NodeOperationError) return error;
	if (isEngineError(error)) {
		const label = error.field ? (fieldLabels[error.field] ?? error.field) : undefined;
		return new NodeOperationError(ctx.getNode(), `${error.message} [item ${itemIndex}]`, {
			itemIndex,
			description: error.hint
				? `${error.hint} (item ${itemIndex}).`
				: label
					? `Check "${label}" for item ${itemIndex}.`
					: undefined,
		});
	}
	const message = error instanceof Error ? error.message : String(error);
	return new NodeOperationError(ctx.getNode(), `${message} [item ${itemIndex}]`, { itemIndex });
}

function errorJson(
	error: unknown,
	nodeError: NodeOperationError,
	fieldLabels: FieldLabels,
): IDataObject {
	const json: IDataObject = { message: nodeError.message };
	if (isEngineError(error)) {
		json.code = error.code;
		if (error.field) {
			json.field = error.field;
			json.parameter = fieldLabels[error.field] ?? error.field;
		}
	}
	return json;
}

/** One item's result and the output (0-based) it goes to. */
export interface RoutedResult {
	output: number;
	json: ItemResult;
}

/**
 * runPerItem for nodes with several outputs (e.g. Sent, Skipped, Deferred, Failed): `handle` names
 * the output for each item. Errors become NodeOperationErrors naming the item and the parameter;
 * with Continue On Fail the item goes to `errorOutput`, keeping its data with the error beside it.
 * (Not flagged as `item.error`: n8n would then replace the item's data with the message alone.)
 * With `concurrency` above 1, that many items are handled at once; outputs keep the input order,
 * and without Continue On Fail no item starts after one failed and the first failure is thrown.
 */
export async function runPerItemRouted(
	ctx: IExecuteFunctions,
	outputCount: number,
	handle: (item: INodeExecutionData, itemIndex: number) => Promise<RoutedResult> | RoutedResult,
	options: { errorOutput: number; fieldLabels?: FieldLabels; concurrency?: number },
): Promise<INodeExecutionData[][]> {
	const fieldLabels = options.fieldLabels ?? {};
	const items = ctx.getInputData();
	const continueOnFail = ctx.continueOnFail();
	const settled: Array<{ result: RoutedResult } | { error: unknown } | undefined> = new Array(
		items.length,
	);
	let next = 0;
	let stopped = false;
	const worker = async () => {
		while (!stopped && next < items.length) {
			const itemIndex = next++;
			try {
				settled[itemIndex] = { result: await handle(items[itemIndex], itemIndex) };
			} catch (error) {
				settled[itemIndex] = { error };
				if (!continueOnFail) stopped = true;
			}
		}
	};
	const shape = outputShaper(ctx);
	const workers = Math.max(1, Math.min(Math.floor(options.concurrency ?? 1), items.length));
	await Promise.all(Array.from({ length: workers }, worker));
	const outputs: INodeExecutionData[][] = Array.from({ length: outputCount }, () => []);
	for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
		const outcome = settled[itemIndex];
		if (outcome === undefined) continue;
		if ('result' in outcome) {
			const { output, json } = outcome.result;
			for (const one of Array.isArray(json) ? (json as readonly object[]) : [json])
				outputs[output].push({
					json: shape.result(one, items[itemIndex]),
					pairedItem: { item: itemIndex },
				});
			continue;
		}
		const nodeError = shape.error(outcome.error, items[itemIndex], itemIndex, fieldLabels);
		if (!continueOnFail) throw nodeError;
		outputs[options.errorOutput].push({
			json: shape.failed(items[itemIndex], errorJson(outcome.error, nodeError, fieldLabels)),
			pairedItem: { item: itemIndex },
		});
	}
	return outputs;
}
