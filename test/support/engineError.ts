import { expect } from 'vitest';
import { EngineError } from '../../engine/shared/errors';

/** Runs `fn`, asserts it throws an EngineError and returns it for further checks. */
export function engineError(fn: () => unknown): EngineError {
	try {
		fn();
	} catch (error) {
		expect(error).toBeInstanceOf(EngineError);
		return error as EngineError;
	}
	throw new Error('expected an EngineError');
}
