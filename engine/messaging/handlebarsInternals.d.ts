/* Handlebars ships no types for its runtime's internal modules; templates.ts uses this one to make
 * the prototype-access lists Handlebars itself makes for every render. */
declare module 'handlebars/dist/cjs/handlebars/internal/proto-access' {
	export function createProtoAccessControl(runtimeOptions: {
		allowProtoPropertiesByDefault?: boolean;
		allowProtoMethodsByDefault?: boolean;
		allowedProtoProperties?: Record<string, boolean>;
		allowedProtoMethods?: Record<string, boolean>;
	}): unknown;
}
