import type {
	IExecuteFunctions,
	ILoadOptionsFunctions,
	INodeListSearchResult,
	INodeProperties,
} from 'n8n-workflow';
import type { LedgerStore } from '../../engine/ledger';
import { EngineError } from '../../engine/shared/errors';
import { isRecord } from '../../engine/shared/guards';
import { ledgerFor } from './ledger';
import { parameterReader } from './parameters';

/**
 * The Program parameter every ledger node asks for, its reader, the per-program cache, and the
 * pickers (list search) for programs and coupon pools. Program and Pool Name are resource locators:
 * pick from the ledger, or type a key (a new program is created on first use). Workflows saved when
 * they were plain text hold a string, and a string still reads as the key.
 */

export function programProperty(
	description: string,
	displayOptions?: INodeProperties['displayOptions'],
): INodeProperties {
	return {
		displayName: 'Program',
		name: 'program',
		type: 'resourceLocator',
		default: { mode: 'id', value: 'default' },
		required: true,
		description,
		modes: [
			{
				displayName: 'From List',
				name: 'list',
				type: 'list',
				typeOptions: { searchListMethod: 'searchPrograms', searchable: true },
			},
			{ displayName: 'By Key', name: 'id', type: 'string', placeholder: 'e.g. default' },
		],
		...(displayOptions ? { displayOptions } : {}),
	};
}

/** A Coupon Pool parameter: pick one of the program's pools or type a name (a new pool is made by loading codes into it). */
export function couponPoolProperty(
	base: Omit<INodeProperties, 'type' | 'default' | 'modes'>,
): INodeProperties {
	return {
		...base,
		type: 'resourceLocator',
		default: { mode: 'id', value: '' },
		modes: [
			{
				displayName: 'From List',
				name: 'list',
				type: 'list',
				typeOptions: { searchListMethod: 'searchCouponPools', searchable: true },
			},
			{ displayName: 'By Name', name: 'id', type: 'string', placeholder: 'e.g. spring-20-eur' },
		],
	};
}

/** The key a Program or Pool Name parameter holds: a resource locator's value, or the text saved before it was one; trimmed. */
export function locatorText(value: unknown): string {
	const raw = isRecord(value) && '__rl' in value ? value.value : value;
	return typeof raw === 'string' ? raw.trim() : typeof raw === 'number' ? String(raw) : '';
}

/** The item's program key, trimmed; an error naming the parameter when it is empty. */
export function programKeyReader(ctx: IExecuteFunctions): (itemIndex: number) => string {
	const programFor = parameterReader<unknown>(ctx, 'program', 'default');
	return (itemIndex) => {
		const key = locatorText(programFor(itemIndex));
		if (key === '')
			throw new EngineError('required', 'The program key is empty; enter one such as "default"', {
				field: 'program',
			});
		return key;
	};
}

/** Something made once per program and execution (a service, the program's existence); a failed one is tried again. */
export function perProgram<T>(
	make: (programId: string) => Promise<T>,
): (programId: string) => Promise<T> {
	const made = new Map<string, Promise<T>>();
	return (programId) => {
		let value = made.get(programId);
		if (!value) {
			value = make(programId);
			made.set(programId, value);
			value.catch(() => made.delete(programId));
		}
		return value;
	};
}

/** Reads the program key once per execution and makes sure the program exists (created on first use). */
export function programReader(
	ctx: IExecuteFunctions,
	ledger: LedgerStore,
): (itemIndex: number) => Promise<string> {
	const keyFor = programKeyReader(ctx);
	const ensure = perProgram((id) => ledger.ensureProgram({ id }));
	return async (itemIndex) => {
		const key = keyFor(itemIndex);
		await ensure(key);
		return key;
	};
}

/** List search for Program: the ledger's programs whose key or name contains the filter. */
export async function searchPrograms(
	this: ILoadOptionsFunctions,
	filter?: string,
): Promise<INodeListSearchResult> {
	const ledger = await ledgerFor(this);
	const programs = await ledger.listPrograms({ search: filter });
	return {
		results: programs.map((program) => ({
			name:
				program.name && program.name !== program.id
					? `${program.name} (${program.id})`
					: program.id,
			value: program.id,
		})),
	};
}

/** List search for Pool Name: the chosen program's coupon pools with the codes still available. */
export async function searchCouponPools(
	this: ILoadOptionsFunctions,
	filter?: string,
): Promise<INodeListSearchResult> {
	const programId =
		locatorText(this.getCurrentNodeParameter('program', { extractValue: true }) ?? 'default') ||
		'default';
	const ledger = await ledgerFor(this);
	const pools = await ledger.listCouponPools({ programId, search: filter });
	return {
		results: pools.map((pool) => ({
			name: `${pool.pool} (${pool.available} of ${pool.total} left)`,
			value: pool.pool,
		})),
	};
}
