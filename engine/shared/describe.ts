/** A short, safe description of a value for error messages: its type, or a short text clipped at 40 characters. */
export function describe(value: unknown): string {
	if (value === undefined) return 'nothing';
	if (value === null) return 'null';
	if (typeof value === 'string')
		return value.length > 40 ? `"${value.slice(0, 40)}…"` : `"${value}"`;
	if (typeof value === 'number' || typeof value === 'boolean') return String(value);
	if (Array.isArray(value)) return 'a list';
	return `a ${typeof value}`;
}
