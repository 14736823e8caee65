/* Hardened Handlebars: a private environment with only our helpers, prototype access never enabled,
 * size limits, a compile cache keyed by options and template text, per-item errors that name the
 * variable, partials, and a layout wrapper that places the rendered body at `{{{body}}}`.
 *
 * Data keys `__proto__`, `constructor` and `prototype` are rejected (not stripped): silently dropping
 * a field would render a different message than the one the marketer previewed. */
import { createHash } from 'node:crypto';
import Handlebars from 'handlebars';
import { createProtoAccessControl } from 'handlebars/dist/cjs/handlebars/internal/proto-access';
import { EngineError } from '../shared/errors';
import { PROTOTYPE_KEYS } from '../shared/guards';
import { helpers, helperNames, SafeHtml, type RenderFrame } from './helpers';

export const templateLimits = {
	/** Largest template (and partial, and layout) accepted, in UTF-8 bytes. */
	maxTemplateBytes: 100 * 1024,
	/** Largest rendered output, in UTF-8 bytes. */
	maxOutputBytes: 1024 * 1024,
	maxPartials: 50,
	/** Deepest nesting of item data; deeper data is almost certainly circular or hostile. */
	maxDataDepth: 64,
	/** Compiled templates kept; least recently used go first. */
	cacheEntries: 500,
	/** Most loop steps (bodies of `{{#each}}`, partials included) one render may run. */
	maxSteps: 100_000,
	/** Longest one render may run, in milliseconds; checked at every loop step. */
	maxRenderMs: 1_000,
};

export type TemplateData = Record<string, unknown>;
export type OutputFormat = 'html' | 'text';

export interface RenderSettings {
	/** A missing variable is an error naming it, instead of rendering as empty text. */
	strict?: boolean;
	/** Names the item in error messages, e.g. "item 3". */
	itemLabel?: string;
	/** Default locale of the formatting helpers (BCP 47, e.g. "de-DE"); en-US when absent. */
	locale?: string;
	/** Default time zone of formatDate (IANA, e.g. "Europe/Berlin"); UTC when absent. */
	timeZone?: string;
	/** Named partials, used as `{{> name}}`. */
	partials?: Record<string, string>;
}

const env = Handlebars.create();
for (const [name, helper] of Object.entries(helpers)) env.registerHelper(name, helper);
// `log` writes to the console and `lookup` does dynamic property access: neither is offered.
env.unregisterHelper('log');
env.unregisterHelper('lookup');

/**
 * The budget of the render in progress: loop steps left and a deadline. Rendering is synchronous,
 * so one module-level slot is enough; `each` spends it, so a template that loops too long stops
 * while it renders instead of running for a minute and being measured afterwards.
 */
interface RenderBudget {
	steps: number;
	deadline: number;
}
let budget: RenderBudget | undefined;

class BudgetExceeded extends Error {
	constructor(readonly kind: 'steps' | 'time') {
		super(kind);
	}
}

function spend(): void {
	const current = budget;
	if (current === undefined) return;
	current.steps -= 1;
	if (current.steps < 0) throw new BudgetExceeded('steps');
	if (Date.now() > current.deadline) throw new BudgetExceeded('time');
}

const builtInEach = env.helpers.each;
env.registerHelper(
	'each',
	function (this: unknown, context: unknown, options: Handlebars.HelperOptions) {
		const fn = options.fn;
		const counted = Object.assign((item: unknown, frame?: Handlebars.RuntimeOptions) => {
			spend();
			return fn(item, frame);
		}, fn);
		return builtInEach.call(this, context, { ...options, fn: counted });
	},
);

const knownHelpers: Record<string, boolean> = { log: false, lookup: false };
for (const name of helperNames) knownHelpers[name] = true;

// Explicit `false` keeps prototype access denied and silences Handlebars' console warning about it.
const runtimeSafety = {
	allowProtoPropertiesByDefault: false,
	allowProtoMethodsByDefault: false,
} as const;

/**
 * What Handlebars builds afresh for every top-level render, built once: it wraps each of the ~30
 * helpers in two new closures and makes new prototype-access lists per call, which costs more than
 * a short template's own work (the bench's SMS: 10 µs with it, 4 µs without). Its runtime takes
 * them ready-made on the path it uses for partials (`partial: true`), so each render passes these.
 * Prototype access stays denied: the lists are Handlebars' own, made from runtimeSafety. The
 * helpers go unwrapped because the wrapper only hands them `options.lookupProperty`, which none of
 * ours reads (the `lookup` helper did; it is not offered). As in Handlebars' own set-up, the two
 * hooks leave the helper list.
 */
const prepared = (() => {
	const { helperMissing, blockHelperMissing, ...callable } = env.helpers;
	return {
		partial: true,
		helpers: Object.freeze(callable),
		hooks: Object.freeze({ helperMissing, blockHelperMissing }),
		decorators: env.decorators,
		protoAccessControl: createProtoAccessControl(runtimeSafety),
	};
})();

type Variant = 'strict-html' | 'strict-text' | 'loose-html' | 'loose-text';
type TemplateFn = (context: unknown, options?: Handlebars.RuntimeOptions) => string;

interface CompiledTemplate {
	render: TemplateFn;
	/** When it was last used, on the cache's clock: the least recent goes first. */
	used: number;
}

function compileOptions(variant: Variant): CompileOptions {
	return {
		data: true,
		strict: variant.startsWith('strict'),
		noEscape: variant.endsWith('text'),
		knownHelpers,
		knownHelpersOnly: true,
		preventIndent: true,
	};
}

type CompileOptions = NonNullable<Parameters<typeof Handlebars.compile>[1]>;

interface CompilerPipeline {
	Compiler: new () => { compile(ast: unknown, options: CompileOptions): unknown };
	JavaScriptCompiler: new () => {
		compile(
			environment: unknown,
			options: CompileOptions,
			context: unknown,
			asObject: boolean,
		): unknown;
	};
}

/** Compiles now rather than on first render (Handlebars' default), so syntax errors surface before any send. */
function compileNow(source: string, options: CompileOptions): TemplateFn {
	const pipeline = env as unknown as CompilerPipeline;
	const ast = env.parse(source);
	const environment = new pipeline.Compiler().compile(ast, options);
	const spec = new pipeline.JavaScriptCompiler().compile(environment, options, undefined, true);
	return env.template(spec as Parameters<typeof env.template>[0]);
}

/** The UTF-8 size of `text` when it is over `limit`, else undefined. */
function bytesOver(text: string, limit: number): number | undefined {
	// A UTF-16 code unit is at most 3 UTF-8 bytes, so most texts need no exact count.
	if (text.length * 3 <= limit) return undefined;
	const bytes = Buffer.byteLength(text);
	return bytes > limit ? bytes : undefined;
}

function forItem(itemLabel?: string): string {
	return itemLabel ? ` (${itemLabel})` : '';
}

/**
 * LRU of compiled templates per variant and template text. A hit is two lookups and a tick of the
 * clock (no reordering); the least recently used entry is found when one has to go, which only
 * happens beside a compile, itself far dearer.
 */
class TemplateCache {
	private readonly byVariant = new Map<Variant, Map<string, CompiledTemplate>>();
	private clock = 0;
	private entries = 0;

	get(source: string, variant: Variant, field: string, itemLabel?: string): CompiledTemplate {
		let bySource = this.byVariant.get(variant);
		if (bySource === undefined) this.byVariant.set(variant, (bySource = new Map()));
		let entry = bySource.get(source);
		if (entry === undefined) {
			entry = { render: this.compile(source, variant, field, itemLabel), used: 0 };
			bySource.set(source, entry);
			this.entries++;
			entry.used = ++this.clock;
			this.evict();
			return entry;
		}
		entry.used = ++this.clock;
		return entry;
	}

	clear(): void {
		this.byVariant.clear();
		this.entries = 0;
	}

	get size(): number {
		return this.entries;
	}

	private evict(): void {
		while (this.entries > templateLimits.cacheEntries) {
			let oldest: { bySource: Map<string, CompiledTemplate>; source: string } | undefined;
			let oldestUse = Infinity;
			for (const bySource of this.byVariant.values()) {
				for (const [source, entry] of bySource) {
					if (entry.used < oldestUse) {
						oldestUse = entry.used;
						oldest = { bySource, source };
					}
				}
			}
			if (oldest === undefined) return;
			oldest.bySource.delete(oldest.source);
			this.entries--;
		}
	}

	private compile(source: string, variant: Variant, field: string, itemLabel?: string): TemplateFn {
		try {
			return compileNow(source, compileOptions(variant));
		} catch (error) {
			throw compileError(error as Error, field, itemLabel);
		}
	}
}

const cache = new TemplateCache();

/** Empties the compile cache (tests and benchmarks). */
export function clearTemplateCache(): void {
	cache.clear();
}

export function templateCacheSize(): number {
	return cache.size;
}

export function sha256(text: string): string {
	return createHash('sha256').update(text).digest('hex');
}

function compileError(error: Error, field: string, itemLabel?: string): EngineError {
	const message = error.message ?? String(error);
	const unknownHelper = /unknown helper (\S+)(?: - (\d+):(\d+))?/.exec(message);
	if (unknownHelper) {
		const where = unknownHelper[2] ? ` on line ${unknownHelper[2]}` : '';
		return new EngineError(
			'unknown_helper',
			`The ${field} template${forItem(itemLabel)} uses "${unknownHelper[1]}"${where}, which is not an available helper. ` +
				`Available: ${helperNames.join(', ')}, and the blocks if, unless, each, with.`,
			{ field, details: { helper: unknownHelper[1] } },
		);
	}
	return new EngineError(
		'template_syntax',
		`The ${field} template${forItem(itemLabel)} has a syntax error: ${message.replace(/\n/g, ' ⏎ ')}`,
		{ field, cause: error },
	);
}

/**
 * Checks that item data is plain JSON-like data a template may read: an object, no forbidden keys,
 * no functions, not nested deeper than the limit. Throws EngineError naming the offending path.
 */
export function assertSafeData(data: unknown, itemLabel?: string): asserts data is TemplateData {
	if (typeof data !== 'object' || data === null || Array.isArray(data)) {
		throw new EngineError(
			'invalid_data',
			`The template data${forItem(itemLabel)} must be an object of fields, got ${Array.isArray(data) ? 'a list' : typeof data}.`,
			{
				field: 'data',
			},
		);
	}
	walkData(data, 1, undefined, itemLabel);
}

/** Where a nested object sits, kept as links so a path string is only built for an error message. */
interface DataPath {
	parent: DataPath | undefined;
	key: string;
	index: boolean;
}

function pathText(at: DataPath | undefined, key?: string, index = false): string {
	const parts: string[] = [];
	if (key !== undefined) parts.push(index ? `[${key}]` : key);
	for (let node = at; node !== undefined; node = node.parent)
		parts.push(node.index ? `[${node.key}]` : node.key);
	return parts
		.reverse()
		.reduce(
			(path, part) => (part.startsWith('[') || path === '' ? path + part : `${path}.${part}`),
			'',
		);
}

function walkData(
	value: object,
	depth: number,
	at: DataPath | undefined,
	itemLabel?: string,
): void {
	if (depth > templateLimits.maxDataDepth) {
		throw new EngineError(
			'invalid_data',
			`The template data${forItem(itemLabel)} is nested deeper than ${templateLimits.maxDataDepth} levels at "${pathText(at)}" (or refers to itself).`,
			{ field: pathText(at) },
		);
	}
	if (value instanceof Date) return;
	const index = Array.isArray(value);
	for (const key of Object.keys(value)) {
		const child = (value as Record<string, unknown>)[key];
		if (PROTOTYPE_KEYS.has(key)) {
			const path = pathText(at, key, index);
			throw new EngineError(
				'unsafe_data_key',
				`The template data${forItem(itemLabel)} has a field named "${key}" at "${path}". ` +
					'Fields named __proto__, constructor or prototype are refused because they can tamper with objects; rename or remove it.',
				{ field: path },
			);
		}
		const type = typeof child;
		if (type === 'object') {
			if (child !== null)
				walkData(child as object, depth + 1, { parent: at, key, index }, itemLabel);
		} else if (type === 'function' || type === 'symbol') {
			const path = pathText(at, key, index);
			throw new EngineError(
				'invalid_data',
				`The template data${forItem(itemLabel)} field "${path}" is a ${type}; only JSON values are allowed.`,
				{ field: path },
			);
		}
	}
}

function checkTemplateSource(
	source: unknown,
	field: string,
	itemLabel?: string,
): asserts source is string {
	// compile() also accepts AST objects, which can carry code; only text is a template here.
	if (typeof source !== 'string') {
		throw new EngineError(
			'invalid_template',
			`The ${field} template${forItem(itemLabel)} must be text, got ${source === null ? 'null' : typeof source}.`,
			{ field },
		);
	}
	const bytes = bytesOver(source, templateLimits.maxTemplateBytes);
	if (bytes !== undefined) {
		throw new EngineError(
			'template_too_large',
			`The ${field} template${forItem(itemLabel)} is ${Math.ceil(bytes / 1024)} KiB; the limit is ${templateLimits.maxTemplateBytes / 1024} KiB.`,
			{ field, details: { bytes, limit: templateLimits.maxTemplateBytes } },
		);
	}
}

/** What every render in one output format shares: the helpers' data frame and the compiled partials. */
interface FormatRuntime {
	frame: RenderFrame;
	partials: Record<string, TemplateFn>;
}

const PARTIAL_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;
const LAYOUT_BODY = /\{\{\{\s*body\s*\}\}\}|\{\{\s*body\s*\}\}/;

/**
 * Renders templates for one item: the data is checked once, partials are compiled (through the cache)
 * once per output format, and every template goes through the same limits and error handling.
 */
export class TemplateRenderer {
	private readonly data: TemplateData;
	private readonly settings: RenderSettings;
	/** The data frame and compiled partials of each output format, made on its first render. */
	private readonly formats: Partial<Record<OutputFormat, FormatRuntime>> = {};

	constructor(data: unknown, settings: RenderSettings = {}) {
		assertSafeData(data, settings.itemLabel);
		this.data = data;
		this.settings = settings;
		this.checkPartials();
	}

	/** Renders one template; `field` is the user's name for it (e.g. "subject", "html"). */
	render(field: string, source: string, format: OutputFormat): string {
		return this.run(field, source, format, this.data);
	}

	/** Wraps rendered HTML in a layout that places it at `{{{body}}}`; the layout sees the data plus `body`. */
	renderLayout(layout: string, bodyHtml: string): string {
		checkTemplateSource(layout, 'layout', this.settings.itemLabel);
		if (!LAYOUT_BODY.test(layout)) {
			throw new EngineError(
				'invalid_layout',
				`The layout${forItem(this.settings.itemLabel)} must contain {{{body}}} where the message goes.`,
				{ field: 'layout' },
			);
		}
		return this.run('layout', layout, 'html', { ...this.data, body: new SafeHtml(bodyHtml) });
	}

	private run(field: string, source: string, format: OutputFormat, context: TemplateData): string {
		const itemLabel = this.settings.itemLabel;
		checkTemplateSource(source, field, itemLabel);
		const strict = this.settings.strict === true;
		const template = cache.get(source, variantOf(strict, format), field, itemLabel);
		let output: string;
		const outer = budget;
		// A layout renders inside no other template, so each render gets the whole budget.
		budget = { steps: templateLimits.maxSteps, deadline: Date.now() + templateLimits.maxRenderMs };
		try {
			const { frame, partials } = (this.formats[format] ??= this.formatRuntime(format));
			// As Handlebars' own set-up makes it: a child of the frame whose @root is the context.
			const data = Handlebars.createFrame(frame) as RenderFrame & { root?: unknown };
			data.root = context;
			output = template.render(context, { ...prepared, partials, data });
		} catch (error) {
			if (error instanceof BudgetExceeded) throw budgetError(error.kind, field, itemLabel);
			throw renderError(error as Error, field, source, itemLabel, this.settings.partials);
		} finally {
			budget = outer;
		}
		const bytes = bytesOver(output, templateLimits.maxOutputBytes);
		if (bytes !== undefined) {
			throw new EngineError(
				'output_too_large',
				`The ${field} template${forItem(itemLabel)} rendered ${Math.ceil(bytes / 1024)} KiB; the limit is ${templateLimits.maxOutputBytes / 1024} KiB. Check loops over large lists.`,
				{ field, details: { bytes, limit: templateLimits.maxOutputBytes } },
			);
		}
		return output;
	}

	private formatRuntime(format: OutputFormat): FormatRuntime {
		const frame: RenderFrame = {
			locale: this.settings.locale,
			timeZone: this.settings.timeZone,
			format,
		};
		return { frame, partials: this.partials(format) ?? env.partials };
	}

	private checkPartials(): void {
		const partials = this.settings.partials;
		if (partials === undefined) return;
		const names = Object.keys(partials);
		if (names.length > templateLimits.maxPartials) {
			throw new EngineError(
				'too_many_partials',
				`At most ${templateLimits.maxPartials} partials are allowed; got ${names.length}.`,
				{ field: 'partials' },
			);
		}
		for (const name of names) {
			if (!PARTIAL_NAME.test(name)) {
				throw new EngineError(
					'invalid_partial_name',
					`Partial name "${name}" is not allowed: use letters, digits, "_", "-" or "." (at most 64).`,
					{ field: 'partials' },
				);
			}
			checkTemplateSource(partials[name], `partial "${name}"`, this.settings.itemLabel);
		}
	}

	private partials(format: OutputFormat): Record<string, TemplateFn> | undefined {
		const sources = this.settings.partials;
		if (sources === undefined) return undefined;
		// Partials inherit the escaping of the template that includes them, so each format compiles its own.
		const compiled = Object.create(null) as Record<string, TemplateFn>;
		for (const [name, source] of Object.entries(sources)) {
			compiled[name] = cache.get(
				source,
				variantOf(this.settings.strict === true, format),
				`partial "${name}"`,
				this.settings.itemLabel,
			).render;
		}
		return compiled;
	}
}

function budgetError(kind: 'steps' | 'time', field: string, itemLabel?: string): EngineError {
	const limit =
		kind === 'steps'
			? `more than ${templateLimits.maxSteps.toLocaleString('en-US')} loop steps`
			: `longer than ${templateLimits.maxRenderMs.toLocaleString('en-US')} ms`;
	return new EngineError(
		'template_budget',
		`The ${field} template${forItem(itemLabel)} was stopped while rendering: it ran ${limit}. Check {{#each}} loops over large lists, and loops inside loops.`,
		{
			field,
			details: { kind, maxSteps: templateLimits.maxSteps, maxRenderMs: templateLimits.maxRenderMs },
		},
	);
}

function variantOf(strict: boolean, format: OutputFormat): Variant {
	return `${strict ? 'strict' : 'loose'}-${format}`;
}

function renderError(
	error: Error,
	field: string,
	source: string,
	itemLabel?: string,
	partials?: Record<string, string>,
): EngineError {
	if (error instanceof EngineError) {
		return new EngineError(
			error.code,
			`${error.message} (in the ${field} template${itemLabel ? `, ${itemLabel}` : ''})`,
			{
				field,
				details: error.details,
				cause: error,
			},
		);
	}
	const message = error?.message ?? String(error);
	const missing = /^"(.*)" not defined in /.exec(message);
	if (missing) {
		const location = error as Error & {
			lineNumber?: number;
			column?: number;
			endLineNumber?: number;
			endColumn?: number;
		};
		const variable = variableAt(source, location, missing[1]);
		const where =
			location.lineNumber !== undefined
				? ` at line ${location.lineNumber}, column ${(location.column ?? 0) + 1}`
				: '';
		return new EngineError(
			'missing_variable',
			`Missing variable "${variable}" in the ${field} template${where}${forItem(itemLabel)}. Add it to the item data, use {{default ${variable} "…"}}, or turn off strict mode.`,
			{ field, details: { variable } },
		);
	}
	// Strict mode reads `a.b.c` without a guard once `a` is missing, so the miss surfaces as a TypeError.
	const unreadable =
		error instanceof TypeError
			? /^Cannot read properties of (?:undefined|null) \(reading '([^']+)'\)/.exec(message)
			: null;
	if (unreadable) {
		const variable = parentPathOf(source, unreadable[1]);
		return new EngineError(
			'missing_variable',
			`Missing variable "${variable ?? `the object holding ${unreadable[1]}`}" in the ${field} template${forItem(itemLabel)}. Add it to the item data, or turn off strict mode.`,
			{ field, details: { variable: variable ?? unreadable[1] } },
		);
	}
	const missingPartial = /^The partial (.+) could not be found/.exec(message);
	if (missingPartial) {
		const defined = partials ? Object.keys(partials) : [];
		return new EngineError(
			'unknown_partial',
			`The ${field} template${forItem(itemLabel)} uses the partial "${missingPartial[1]}", which is not defined. ` +
				(defined.length > 0
					? `Defined partials: ${defined.join(', ')}.`
					: 'No partials are defined.'),
			{ field, details: { partial: missingPartial[1] } },
		);
	}
	if (error instanceof RangeError) {
		return new EngineError(
			'template_render',
			`The ${field} template${forItem(itemLabel)} nests too deeply (a partial that includes itself?).`,
			{ field },
		);
	}
	return new EngineError(
		'template_render',
		`The ${field} template${forItem(itemLabel)} could not be rendered: ${message.replace(/\n/g, ' ')}`,
		{ field, cause: error },
	);
}

/** For `{{a.b.c}}` failing on reading "b": the path before it ("a"), found in the template's expressions. */
function parentPathOf(source: string, property: string): string | undefined {
	for (const expression of source.matchAll(/\{\{[^}]*\}\}/g)) {
		for (const path of expression[0].matchAll(/[@\w][\w./-]*/g)) {
			const parts = path[0].split(/[./]/);
			const at = parts.indexOf(property);
			if (at > 0) return parts.slice(0, at).join('.');
		}
	}
	return undefined;
}

/** The full path of the missing variable (e.g. "user.name"), read from the template at the error's location. */
function variableAt(
	source: string,
	location: { lineNumber?: number; column?: number; endLineNumber?: number; endColumn?: number },
	name: string,
): string {
	const { lineNumber, column, endLineNumber, endColumn } = location;
	if (
		lineNumber === undefined ||
		column === undefined ||
		endLineNumber !== lineNumber ||
		endColumn === undefined
	)
		return name;
	const line = source.split('\n')[lineNumber - 1];
	const span = line?.slice(column, endColumn).trim();
	// The location belongs to a partial when the text there is not a path ending in the name.
	if (span && /^[@\w./[\]-]+$/.test(span) && span.replace(/[[\]]/g, '').endsWith(name)) return span;
	return name;
}
