import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import type { LedgerStore } from '../../engine/ledger';
import { EngineError } from '../../engine/shared/errors';
import { parameterReader } from './parameters';

/** The Program parameter every ledger node asks for, its reader and the per-program cache. */

export function programProperty(description: string, displayOptions?: INodeProperties['displayOptions']): INodeProperties {
	return {
		displayName: 'Program',
		name: 'program',
		type: 'string',
		default: 'default',
		required: true,
		description,
		...(displayOptions ? { displayOptions } : {}),
	};
}

/** The item's program key, trimmed; an error naming the parameter when it is empty. */
export function programKeyReader(ctx: IExecuteFunctions): (itemIndex: number) => string {
	const programFor = parameterReader<unknown>(ctx, 'program', 'default');
	return (itemIndex) => {
		const program = programFor(itemIndex);
		if (typeof program !== 'string' || program.trim() === '') {
			throw new EngineError('required', 'The program key is empty; enter one such as "default"', { field: 'program' });
		}
		return program.trim();
	};
}

/** Something made once per program and execution (a service, the program's existence); a failed one is tried again. */
export function perProgram<T>(make: (programId: string) => Promise<T>): (programId: string) => Promise<T> {
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
export function programReader(ctx: IExecuteFunctions, ledger: LedgerStore): (itemIndex: number) => Promise<string> {
	const keyFor = programKeyReader(ctx);
	const ensure = perProgram((id) => ledger.ensureProgram({ id }));
	return async (itemIndex) => {
		const key = keyFor(itemIndex);
		await ensure(key);
		return key;
	};
}
