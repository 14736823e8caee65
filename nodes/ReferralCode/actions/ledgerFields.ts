import type { INodeProperties } from 'n8n-workflow';
import { normalizeCode } from '../../../engine/codes';
import { EngineError } from '../../../engine/shared/errors';
import type { CodeRecord } from '../../../engine/ledger';
import { readField } from '../../shared/parameters';
import type { CodeGenerator } from '../../../engine/codes';

export function codeFieldProperty(): INodeProperties {
	return {
		displayName: 'Code Field',
		name: 'codeField',
		type: 'string',
		default: 'code',
		required: true,
		placeholder: 'e.g. referralCode or body.code',
		hint: 'The name of the input field holding the code, not the code itself',
	};
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
