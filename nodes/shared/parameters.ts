import type { IExecuteFunctions, INodeParameters, NodeParameterValueType } from 'n8n-workflow';

/**
 * Reads a parameter once per execution when it holds no expression, per item only when it does.
 * An expression costs about 0.3 ms per item in n8n 2.x, so reading a fixed value per item for
 * 50,000 items is pure waste; an expression, though, may differ between items and must be honoured.
 */
export function parameterReader<T>(
	ctx: IExecuteFunctions,
	name: string,
	fallback?: T,
): (itemIndex: number) => T {
	const raw = rawParameter(ctx.getNode().parameters, name);
	if (!containsExpression(raw)) {
		let cached: { value: T } | undefined;
		return () => {
			cached ??= { value: ctx.getNodeParameter(name, 0, fallback) as T };
			return cached.value;
		};
	}
	return (itemIndex) => ctx.getNodeParameter(name, itemIndex, fallback) as T;
}

function rawParameter(parameters: INodeParameters, path: string): unknown {
	let value: unknown = parameters;
	for (const part of path.split('.')) {
		if (value === null || typeof value !== 'object') return undefined;
		value = (value as Record<string, unknown>)[part];
	}
	return value;
}

function containsExpression(value: unknown): boolean {
	if (typeof value === 'string') return value.startsWith('=');
	if (Array.isArray(value)) return value.some(containsExpression);
	if (value !== null && typeof value === 'object')
		return Object.values(value as Record<string, NodeParameterValueType>).some(containsExpression);
	return false;
}

/** Reads a dot path (`customer.email`, `lines[0].sku`) from an item's JSON; field-name parameters use it. */
export function readField(json: unknown, path: string): unknown {
	// An expression may hand over a number (a list position) or nothing; a path is text.
	if (typeof path !== 'string') {
		if (typeof path !== 'number') return undefined;
		path = String(path);
	}
	if (path === '') return undefined;
	let value: unknown = json;
	for (const part of splitPath(path)) {
		if (value === null || typeof value !== 'object') return undefined;
		value = (value as Record<string, unknown>)[part];
	}
	return value;
}

const pathCache = new Map<string, string[]>();

function splitPath(path: string): string[] {
	let parts = pathCache.get(path);
	if (!parts) {
		parts = path
			.replace(/\[(\d+)\]/g, '.$1')
			.split('.')
			.filter((p) => p !== '');
		if (pathCache.size > 1000) pathCache.clear();
		pathCache.set(path, parts);
	}
	return parts;
}
