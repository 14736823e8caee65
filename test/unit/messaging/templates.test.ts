import { afterEach, describe, expect, it, vi } from 'vitest';
import { EngineError } from '../../../engine/shared/errors';
import {
	assertSafeData,
	clearTemplateCache,
	templateCacheSize,
	templateLimits,
	TemplateRenderer,
	type RenderSettings,
} from '../../../engine/messaging';
import { engineError } from '../../support/engineError';

function render(
	template: string,
	data: unknown = {},
	settings: RenderSettings = {},
	format: 'html' | 'text' = 'html',
): string {
	return new TemplateRenderer(data, settings).render('html', template, format);
}

afterEach(() => vi.restoreAllMocks());

describe('escaping', () => {
	it('escapes HTML by default, leaves triple-stash raw, and never escapes text output', () => {
		const data = { name: '<script>alert("x")</script> & Co' };
		expect(render('<p>{{name}}</p>', data)).toBe(
			'<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co</p>',
		);
		expect(render('{{{name}}}', data)).toBe(data.name);
		expect(render('{{name}}', data, {}, 'text')).toBe(data.name);
	});
});

describe('strict mode', () => {
	it('names the missing variable with its full path, the template, the position and the item', () => {
		const error = engineError(() =>
			render(
				'Hello\n  {{referrer.firstName}}!',
				{ referrer: {} },
				{ strict: true, itemLabel: 'item 12' },
			),
		);
		expect(error.code).toBe('missing_variable');
		expect(error.field).toBe('html');
		expect(error.details).toEqual({ variable: 'referrer.firstName' });
		expect(error.message).toContain(
			'Missing variable "referrer.firstName" in the html template at line 2, column 5 (item 12)',
		);
	});

	it('catches a missing parent object too, and variables inside loops', () => {
		const parentMissing = engineError(() =>
			render('<p>{{a.b.c}}</p>', {}, { strict: true, itemLabel: 'item 2' }),
		);
		expect(parentMissing.code).toBe('missing_variable');
		expect(parentMissing.details).toEqual({ variable: 'a' });
		expect(parentMissing.message).toMatch(/Missing variable "a" in the html template \(item 2\)/);
		expect(engineError(() => render('{{a.b.c}}', { a: {} }, { strict: true })).details).toEqual({
			variable: 'a.b.c',
		});
		expect(
			engineError(() =>
				render(
					'{{#each friends}}{{nmae}}{{/each}}',
					{ friends: [{ name: 'A' }] },
					{ strict: true },
				),
			).details,
		).toEqual({ variable: 'nmae' });
	});

	it('renders a missing variable as empty text when strict mode is off', () => {
		expect(render('Hi {{referrer.firstName}}!', {})).toBe('Hi !');
	});

	it('still lets #if test an optional field', () => {
		expect(render('{{#if nick}}{{nick}}{{else}}friend{{/if}}', {}, { strict: true })).toBe(
			'friend',
		);
	});
});

describe('template errors are per item, never crashes', () => {
	it('reports a syntax error with the template name', () => {
		const error = engineError(() => render('Hi {{name', {}, { itemLabel: 'item 1' }));
		expect(error.code).toBe('template_syntax');
		expect(error.field).toBe('html');
		expect(error.message).toMatch(
			/html template \(item 1\) has a syntax error: Parse error on line 1/,
		);
		expect(engineError(() => render('{{#each x}}{{/with}}')).code).toBe('template_syntax');
	});

	it('refuses unknown helpers at compile time and lists the available ones', () => {
		const error = engineError(() => render('{{shout name}}', { name: 'a' }));
		expect(error.code).toBe('unknown_helper');
		expect(error.message).toMatch(/"shout".*not an available helper.*formatCurrency/);
	});

	it('does not offer log (console output) or lookup (dynamic property access)', () => {
		expect(engineError(() => render('{{log "x"}}')).code).toBe('unknown_helper');
		expect(engineError(() => render('{{lookup this "constructor"}}')).code).toBe('unknown_helper');
	});

	it('refuses a template that is not text (compile() would accept an AST object)', () => {
		const ast = { type: 'Program', body: [] };
		expect(
			engineError(() => new TemplateRenderer({}).render('html', ast as unknown as string, 'html'))
				.code,
		).toBe('invalid_template');
	});

	it('enforces the template size limit', () => {
		expect(render('a'.repeat(templateLimits.maxTemplateBytes))).toHaveLength(
			templateLimits.maxTemplateBytes,
		);
		const error = engineError(() => render('a'.repeat(templateLimits.maxTemplateBytes + 1)));
		expect(error.code).toBe('template_too_large');
		// Multi-byte characters count in UTF-8 bytes, not UTF-16 units.
		expect(
			engineError(() => render('é'.repeat(templateLimits.maxTemplateBytes / 2 + 1))).code,
		).toBe('template_too_large');
	});

	it('enforces the output size limit', () => {
		const items = Array.from({ length: 12 }, () => 'x'.repeat(100 * 1024));
		const error = engineError(() => render('{{#each items}}{{this}}{{/each}}', { items }));
		expect(error.code).toBe('output_too_large');
		expect(error.message).toMatch(/limit is 1024 KiB/);
	});
});

describe('render budget (issue #14: stopped while rendering, not measured afterwards)', () => {
	const items = Array.from({ length: 300 }, (_, i) => ({ name: `item ${i}` }));

	it('stops loops inside loops over 300 items at the step budget, in well under a second', () => {
		// Before the budget this template rendered for about 65 s and only then failed the output-size check.
		const started = Date.now();
		const error = engineError(() =>
			render(
				'{{#each items}}{{#each ../items}}{{#each ../../items}}x{{/each}}{{/each}}{{/each}}',
				{ items },
				{ itemLabel: 'item 2' },
			),
		);
		expect(Date.now() - started).toBeLessThan(5_000);
		expect(error.code).toBe('template_budget');
		expect(error.field).toBe('html');
		// Whichever budget runs out first: the steps, or on a busy machine the second.
		expect(error.message).toMatch(
			/\(item 2\) was stopped while rendering: it ran (more than 100,000 loop steps|longer than 1,000 ms)/,
		);
	});

	it('stops a render that runs past its time budget, and leaves the next render its whole budget', () => {
		const before = templateLimits.maxRenderMs;
		templateLimits.maxRenderMs = -1;
		try {
			const error = engineError(() => render('{{#each items}}{{name}}{{/each}}', { items }));
			expect(error.code).toBe('template_budget');
			expect(error.message).toMatch(/longer than -1 ms/);
		} finally {
			templateLimits.maxRenderMs = before;
		}
		// The next render has its whole time budget again (a budget left spent would stop it at once).
		expect(
			render('{{#each items}}{{@index}}{{#if @last}}!{{/if}}{{/each}}', { items: ['a', 'b'] }),
		).toBe('01!');
		// Ordinary loops (300 × 300 = 90,300 steps) stay within the step budget. The time budget is
		// lifted for this check only: on a loaded 2-core machine these 90,300 steps can take over 1 s.
		templateLimits.maxRenderMs = 60_000;
		try {
			expect(
				render('{{#each items}}{{#each ../items}}.{{/each}}{{/each}}', { items }),
			).toHaveLength(90_000);
		} finally {
			templateLimits.maxRenderMs = before;
		}
	});
});

describe('data safety', () => {
	it('rejects __proto__, constructor and prototype keys anywhere, naming the path', () => {
		const cases: Array<[string, string]> = [
			['{"__proto__": {"isAdmin": true}}', '__proto__'],
			['{"referrer": {"constructor": {"prototype": {}}}}', 'referrer.constructor'],
			['{"friends": [{"name": "a"}, {"prototype": 1}]}', 'friends[1].prototype'],
		];
		for (const [json, path] of cases) {
			const error = engineError(() =>
				render('{{name}}', JSON.parse(json), { itemLabel: 'item 3' }),
			);
			expect(error.code).toBe('unsafe_data_key');
			expect(error.field).toBe(path);
			expect(error.message).toMatch(/\(item 3\)/);
		}
		expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
	});

	it('rejects functions, non-object data and circular data', () => {
		expect(engineError(() => assertSafeData({ f: () => 1 })).field).toBe('f');
		expect(engineError(() => assertSafeData([1, 2])).code).toBe('invalid_data');
		expect(engineError(() => assertSafeData('x')).code).toBe('invalid_data');
		const circular: Record<string, unknown> = { a: 1 };
		circular.self = circular;
		expect(engineError(() => assertSafeData(circular)).message).toMatch(
			/nested deeper than 64 levels/,
		);
	});

	it('keeps prototype members out of reach and prints nothing to the console', () => {
		const spies = (['log', 'warn', 'error'] as const).map((name) =>
			vi.spyOn(console, name).mockImplementation(() => {}),
		);
		const out = render(
			'[{{constructor}}][{{__proto__}}][{{toString}}][{{name.constructor}}][{{#with name}}{{constructor.name}}{{/with}}][{{__defineGetter__}}]',
			{ name: 'x' },
		);
		expect(out).toBe('[][][][][][]');
		for (const spy of spies) expect(spy).not.toHaveBeenCalled();
	});

	it('a template cannot reach the Function constructor to run code', () => {
		const attempt =
			'{{#with "s" as |s|}}{{#with s.constructor as |c|}}{{c.constructor "return process"}}{{/with}}{{/with}}';
		// The constructor lookups resolve to nothing, and calling a non-helper is a compile error.
		expect(() => render(attempt)).toThrow(EngineError);
	});
});

describe('partials and layout', () => {
	it('renders named partials, escaping per output format', () => {
		const partials = { sig: '-- {{company}}' };
		const renderer = new TemplateRenderer({ company: 'A & B' }, { partials });
		expect(renderer.render('html', '<p>Hi</p>{{> sig}}', 'html')).toBe('<p>Hi</p>-- A &amp; B');
		expect(renderer.render('text', 'Hi\n{{> sig}}', 'text')).toBe('Hi\n-- A & B');
	});

	it('supports inline partials', () => {
		expect(
			render(
				'{{#*inline "row"}}<li>{{this}}</li>{{/inline}}<ul>{{#each xs}}{{> row}}{{/each}}</ul>',
				{ xs: ['a', 'b'] },
			),
		).toBe('<ul><li>a</li><li>b</li></ul>');
	});

	it('names an unknown partial and a partial that includes itself', () => {
		const unknown = engineError(() =>
			new TemplateRenderer({}, { partials: { footer: 'x' } }).render(
				'html',
				'{{> header}}',
				'html',
			),
		);
		expect(unknown.code).toBe('unknown_partial');
		expect(unknown.message).toMatch(/"header", which is not defined. Defined partials: footer/);
		expect(
			engineError(() =>
				new TemplateRenderer({}, { partials: { loop: 'a{{> loop}}' } }).render(
					'html',
					'{{> loop}}',
					'html',
				),
			).message,
		).toMatch(/nests too deeply/);
	});

	it('limits the number of partials and their names', () => {
		const many = Object.fromEntries(
			Array.from({ length: templateLimits.maxPartials + 1 }, (_, i) => [`p${i}`, 'x']),
		);
		expect(engineError(() => new TemplateRenderer({}, { partials: many })).code).toBe(
			'too_many_partials',
		);
		expect(engineError(() => new TemplateRenderer({}, { partials: { '../x': 'x' } })).code).toBe(
			'invalid_partial_name',
		);
	});

	it('wraps the body in a layout that also sees the data', () => {
		const renderer = new TemplateRenderer({ brand: 'Acme', name: '<Ann>' });
		const body = renderer.render('html', '<p>Hi {{name}}</p>', 'html');
		expect(renderer.renderLayout('<html><h1>{{brand}}</h1>{{{body}}}</html>', body)).toBe(
			'<html><h1>Acme</h1><p>Hi &lt;Ann&gt;</p></html>',
		);
		// Escaped {{body}} must not escape the already-rendered HTML twice.
		expect(renderer.renderLayout('<div>{{body}}</div>', body)).toBe(
			'<div><p>Hi &lt;Ann&gt;</p></div>',
		);
		expect(engineError(() => renderer.renderLayout('<html></html>', body)).code).toBe(
			'invalid_layout',
		);
	});
});

describe('compile cache', () => {
	it('compiles each template once per option set and reuses it for equal text', () => {
		clearTemplateCache();
		const source = 'Hi {{name}} ' + Math.random();
		const copy = (' ' + source).slice(1); // equal content, another string object
		render(source, { name: 'a' });
		expect(templateCacheSize()).toBe(1);
		render(copy, { name: 'b' });
		render(source, { name: 'c' });
		expect(templateCacheSize()).toBe(1);
		render(source, { name: 'd' }, { strict: true });
		render(source, { name: 'e' }, {}, 'text');
		expect(templateCacheSize()).toBe(3);
	});

	it('is bounded: least recently used templates are evicted', () => {
		clearTemplateCache();
		const before = templateLimits.cacheEntries;
		templateLimits.cacheEntries = 5;
		try {
			for (let i = 0; i < 20; i++) render(`t${i} {{x}}`, { x: i });
			expect(templateCacheSize()).toBe(5);
			expect(render('t3 {{x}}', { x: 'again' })).toBe('t3 again');
		} finally {
			templateLimits.cacheEntries = before;
		}
	});

	it('a cached template still renders each item with its own data', () => {
		const results = ['Ann', 'Bob', 'Cy'].map((name) => render('<b>{{name}}</b>', { name }));
		expect(results).toEqual(['<b>Ann</b>', '<b>Bob</b>', '<b>Cy</b>']);
	});
});
