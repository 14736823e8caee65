import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { normalizeCode } from '../../../engine/codes';
import { EngineError } from '../../../engine/shared/errors';
import type { CodeRecord } from '../../../engine/ledger';
import { parameterReader, readField } from '../../shared/parameters';
import {
	describeValue,
	emptyValueError,
	inputProperties,
	type InputParameter,
	type InputSource,
	type ValueTwin,
} from '../../shared/inputs';
import type { CodeGenerator } from '../../../engine/codes';

const codeField: INodeProperties = {
	displayName: 'Code Field',
	name: 'codeField',
	type: 'string',
	default: 'code',
	required: true,
	placeholder: 'e.g. referralCode or body.code',
	hint: 'The name of the input field holding the code, not the code itself',
};

export const codeValue: ValueTwin = {
	name: 'code',
	displayName: 'Code',
	holding: 'the referral code',
	placeholder: 'e.g. FRIEND-K7QM-3XH9',
	description: 'The referral code itself, as the person typed it',
};

/** Code Field, or Code itself in Values mode. */
export const codeInput: InputParameter = { field: codeField, value: codeValue };

export function codeFieldProperty(): INodeProperties[] {
	return inputProperties(codeInput);
}

/**
 * Each item's code in canonical form. Item Fields: the Code Field path is read once per execution
 * and its errors name the field, as before; Values: the Code parameter (text, or a number taken as
 * its digits), an empty one named with what to pass.
 */
export function canonicalCodeReader(
	ctx: IExecuteFunctions,
	source: InputSource,
): (itemIndex: number, json: IDataObject, generator: CodeGenerator) => string {
	if (source === 'fields') {
		const fieldFor = parameterReader<string>(ctx, 'codeField', 'code');
		return (itemIndex, json, generator) =>
			canonicalCodeFromItem(json, fieldFor(itemIndex), generator);
	}
	const valueFor = parameterReader<unknown>(ctx, codeValue.name, '');
	return (itemIndex, _json, generator) =>
		canonicalCode(codeTextOf(valueFor(itemIndex), codeValue), generator);
}

/** A Value-mode code as text: a number counts as its digits; empty or another kind is an error naming the parameter. */
export function codeTextOf(value: unknown, twin: ValueTwin): string {
	if (typeof value === 'number' && Number.isFinite(value)) return String(value);
	if (typeof value !== 'string') {
		if (value === undefined || value === null) throw emptyValueError(twin);
		throw new EngineError(
			'invalid_code_input',
			`${twin.displayName} must be the code as text, got ${describeValue(value)}: pass ${twin.holding}`,
			{ field: twin.name },
		);
	}
	if (value.trim() === '') throw emptyValueError(twin);
	return value;
}

/** The code in the item's field, in the canonical form the ledger stores (vanity codes as typed, upper-cased). */
export function canonicalCodeFromItem(
	json: unknown,
	field: string,
	generator: CodeGenerator,
): string {
	const value = readField(json, field);
	if (typeof value !== 'string' || value.trim() === '') {
		throw new EngineError(
			'invalid_code_input',
			value === undefined
				? `The input has no field "${field}"; set Code Field to the name of the field that holds the code`
				: `The field "${field}" must hold the code as text, got ${value === null ? 'null' : typeof value === 'string' ? 'empty text' : typeof value}`,
			{ field: 'codeField' },
		);
	}
	return canonicalCode(value, generator);
}

function canonicalCode(value: string, generator: CodeGenerator): string {
	const normalized = normalizeCode(generator.format, value);
	if (normalized.valid && normalized.canonical) return normalized.canonical;
	// Not a generated code: vanity codes are stored as requested, in the format's letter case.
	const trimmed = value.trim();
	return generator.format.lowerCase ? trimmed.toLowerCase() : trimmed.toUpperCase();
}

/** What an output item says about a code: no internal ids beyond the owner's participant id. */
export function codeJson(code: CodeRecord) {
	return {
		code: code.code,
		program: code.programId,
		ownerId: code.ownerId,
		status: code.status,
		state: code.state,
		uses: code.uses,
		maxUses: code.maxUses,
		expiresAt: code.expiresAt === null ? null : new Date(code.expiresAt).toISOString(),
		revokedReason: code.revokedReason,
		createdAt: new Date(code.createdAt).toISOString(),
	};
}

export const ledgerFieldLabels: Record<string, string> = {
	program: 'Program',
	programId: 'Program',
	codeField: 'Code Field',
	code: 'Code Field',
	ownerField: 'Owner Field',
	ownerId: 'Owner Field',
	expiresInDays: 'Expires After (Days)',
	expiresAt: 'Expires After (Days)',
	maxUses: 'Max Uses',
	reason: 'Reason',
};

/** The Value parameters' names in errors (Values mode). */
export const ledgerValueLabels: Record<string, string> = {
	codeField: 'Code',
	code: 'Code',
	ownerField: 'Owner',
	ownerId: 'Owner',
	owner: 'Owner',
};
