/* The one router every action node uses: resource → operation → file, and errors that name the choices. */
import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import { describe, expect, it } from 'vitest';
import { type ResourceMap, routerFor } from '../../../nodes/shared/router';

const item = (tag: string): INodeExecutionData => ({ json: { tag } });

const resources: ResourceMap = {
	code: {
		generate: { execute: async () => [item('generate')] },
		normalize: { execute: async () => [item('normalize')] },
	},
	issuedCode: {
		issue: { execute: async () => [[item('issued')], [item('second output')]] },
	},
};

/** Just enough of n8n's execute context for the router: node parameters and the node. */
function context(parameters: Record<string, unknown>): IExecuteFunctions {
	return {
		getNodeParameter: (name: string, _itemIndex: number, fallback?: unknown) => {
			if (name in parameters) return parameters[name];
			if (fallback !== undefined) return fallback;
			throw new Error(`Could not get parameter "${name}"`);
		},
		getNode: () => ({
			id: 'n1',
			name: 'Router Test',
			type: 'test',
			typeVersion: 1,
			position: [0, 0],
			parameters: {},
		}),
	} as unknown as IExecuteFunctions;
}

async function failure(run: Promise<unknown>): Promise<NodeOperationError> {
	const error = await run.then(
		() => undefined,
		(e: unknown) => e,
	);
	expect(error).toBeInstanceOf(NodeOperationError);
	return error as NodeOperationError;
}

describe('routerFor', () => {
	it('hands the execution to the operation of the chosen resource', async () => {
		const router = routerFor(resources);
		expect(await router.call(context({ resource: 'code', operation: 'normalize' }))).toEqual([
			[item('normalize')],
		]);
	});

	it('sends a single list to the first output and leaves the others empty', async () => {
		const router = routerFor(resources, { outputs: 3 });
		expect(await router.call(context({ resource: 'code', operation: 'generate' }))).toEqual([
			[item('generate')],
			[],
			[],
		]);
	});

	it('passes an answer per output through as it is', async () => {
		const router = routerFor(resources, { outputs: 2 });
		expect(await router.call(context({ resource: 'issuedCode', operation: 'issue' }))).toEqual([
			[item('issued')],
			[item('second output')],
		]);
	});

	it('uses the default resource when the node has no Resource parameter', async () => {
		const router = routerFor(resources, { defaultResource: 'code' });
		expect(await router.call(context({ operation: 'generate' }))).toEqual([[item('generate')]]);
	});

	it('refuses an unknown resource, naming the resources to choose from', async () => {
		const error = await failure(
			routerFor(resources).call(context({ resource: 'coupon', operation: 'generate' })),
		);
		expect(error.message).toBe('The resource "coupon" is not known to this node');
		expect(error.description).toBe('Choose one of: code, issuedCode');
	});

	it('refuses an unknown operation, naming the operations of the resource', async () => {
		const error = await failure(
			routerFor(resources).call(context({ resource: 'code', operation: 'issue' })),
		);
		expect(error.message).toBe('The operation "issue" is not known to this node');
		expect(error.description).toBe('For code, choose one of: generate, normalize');
	});

	it('does not take an inherited property for an operation', async () => {
		const error = await failure(
			routerFor(resources).call(context({ resource: 'code', operation: 'toString' })),
		);
		expect(error.description).toBe('For code, choose one of: generate, normalize');
		await failure(
			routerFor(resources).call(context({ resource: '__proto__', operation: 'generate' })),
		);
	});

	describe('with operationDecides (saved workflows that name an operation without its resource)', () => {
		const router = routerFor(resources, {
			defaultResource: 'code',
			operationDecides: true,
			outputs: 2,
		});

		it('finds the resource that has the operation', async () => {
			expect(await router.call(context({ operation: 'issue' }))).toEqual([
				[item('issued')],
				[item('second output')],
			]);
		});

		it('still follows the chosen resource when it has the operation', async () => {
			expect(await router.call(context({ resource: 'code', operation: 'generate' }))).toEqual([
				[item('generate')],
				[],
			]);
		});

		it('still refuses an operation no resource has', async () => {
			const error = await failure(router.call(context({ operation: 'erase' })));
			expect(error.description).toBe('For code, choose one of: generate, normalize');
		});
	});
});
