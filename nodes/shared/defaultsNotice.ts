import type { INodeProperties } from 'n8n-workflow';

/** How a default reads in a notice: strings as they are, lists and objects left out (nothing to show). */
function shown(value: unknown): string | undefined {
	if (typeof value === 'string') return value === '' ? undefined : value;
	if (typeof value === 'number') return String(value);
	if (typeof value === 'boolean') return value ? 'on' : 'off';
	return undefined;
}

/**
 * n8n shows an empty collection as "No properties" until an option is added, so a marketer cannot
 * see which input fields are read or which thresholds apply. Before each such collection this puts
 * a notice naming the defaults ("Email Field: email · Name Field: name …"), shown under the same
 * conditions as the collection. Options with no default worth naming (empty text, lists) are left out.
 */
export function withDefaultsNotices(
	properties: INodeProperties[],
	names: readonly string[],
): INodeProperties[] {
	return properties.flatMap((property) => {
		if (property.type !== 'collection' || !names.includes(property.name)) return [property];
		const parts = ((property.options ?? []) as INodeProperties[]).flatMap((option) => {
			const value = shown(option.default);
			return value === undefined ? [] : [`${option.displayName}: ${value}`];
		});
		if (parts.length === 0) return [property];
		const notice: INodeProperties = {
			displayName: `${property.displayName}, unless changed below: ${parts.join(' · ')}`,
			name: `${property.name}Defaults`,
			type: 'notice',
			default: '',
			...(property.displayOptions ? { displayOptions: property.displayOptions } : {}),
		};
		return [notice, property];
	});
}
