/**
 * The one error type the engine throws for bad input or a broken rule.
 * Nodes turn it into a NodeOperationError that names the item; the engine names the field
 * and says what would be valid, so the message is useful on its own.
 */
export class EngineError extends Error {
	/** Stable machine-readable reason, e.g. `invalid_length`, `unknown_code`. */
	readonly code: string;
	/** The parameter or input field at fault, in the user's words (e.g. `length`, `email`). */
	readonly field?: string;
	/** Extra structured detail that is safe to show (never secrets). */
	readonly details?: Record<string, unknown>;
	/**
	 * What to change in the workflow, for its builder (e.g. "Set Lookup Field to …"). Kept out of the
	 * message, which sample workflows pass on to API callers in terms of their request.
	 */
	readonly hint?: string;

	constructor(
		code: string,
		message: string,
		options: {
			field?: string;
			details?: Record<string, unknown>;
			hint?: string;
			cause?: unknown;
		} = {},
	) {
		super(message, options.cause === undefined ? undefined : { cause: options.cause });
		this.name = 'EngineError';
		this.code = code;
		this.field = options.field;
		this.details = options.details;
		this.hint = options.hint;
	}
}

export function isEngineError(error: unknown): error is EngineError {
	return error instanceof EngineError;
}
