import { EngineError } from '../shared/errors';
import { checkValue } from './checkCharacter';
import {
	type CodeFormat,
	type CodeFormatOptions,
	collisionProbability,
	parseCodeFormat,
} from './format';
import { maskFor, RandomBytes } from './random';

export const MAX_CODES_PER_REQUEST = 10_000_000;

export interface CodeSpaceReport {
	/** Distinct codes this format can produce (upper bound; the blocklist removes a few). */
	space: number;
	entropyBits: number;
	/** Probability that `count` independently drawn codes contain a repeat. */
	collisionProbability: number;
}

/**
 * Draws codes in one format. Build it once per execution (parsing the format is the costly part),
 * then call `next()` or `generate(count)` as often as needed.
 */
export class CodeGenerator {
	readonly format: CodeFormat;
	private readonly random = new RandomBytes();
	private readonly mask: number;
	private readonly values: Int32Array;
	private readonly classes: Uint8Array;
	private readonly symbolCodes: Uint16Array;
	private readonly chars: number[];

	constructor(format: CodeFormat | CodeFormatOptions = {}) {
		this.format =
			'alphabet' in format && typeof format.alphabet === 'object'
				? (format as CodeFormat)
				: parseCodeFormat(format as CodeFormatOptions);
		const { alphabet, slots, lowerCase } = this.format;
		this.mask = maskFor(alphabet.size);
		this.values = new Int32Array(slots);
		this.classes = new Uint8Array(slots);
		const symbols = lowerCase ? alphabet.symbols.toLowerCase() : alphabet.symbols;
		this.symbolCodes = Uint16Array.from([...symbols].map((c) => c.charCodeAt(0)));
		this.chars = new Array<number>(this.format.layout.length).fill(0);
		this.format.layout.forEach((v, i) => {
			if (v !== -1) this.chars[i] = v;
		});
	}

	describe(count: number): CodeSpaceReport {
		return {
			space: this.format.space,
			entropyBits: Math.round(this.format.entropyBits * 100) / 100,
			collisionProbability: collisionProbability(count, this.format.space),
		};
	}

	/** One code; codes from separate calls may repeat (the ledger's unique index catches that). */
	next(): string {
		this.draw();
		return this.render();
	}

	/** `count` distinct codes. */
	generate(count: number, field = 'count'): string[] {
		this.assertCount(count, field);
		const out = new Array<string>(count);
		const numeric = this.format.space <= Number.MAX_SAFE_INTEGER;
		const seenNumbers = numeric ? new NumberSet(count) : undefined;
		const seenCodes = numeric ? undefined : new Set<string>();
		const base = this.format.alphabet.size;
		const randomSlots = this.format.randomSlots;
		let made = 0;
		while (made < count) {
			this.draw();
			if (seenNumbers) {
				let key = 0;
				for (let j = 0; j < randomSlots; j++) key = key * base + this.values[j];
				if (!seenNumbers.add(key)) continue;
				out[made++] = this.render();
			} else {
				const code = this.render();
				if (seenCodes!.has(code)) continue;
				seenCodes!.add(code);
				out[made++] = code;
			}
		}
		return out;
	}

	assertCount(count: unknown, field = 'count'): asserts count is number {
		if (
			typeof count !== 'number' ||
			!Number.isInteger(count) ||
			count < 1 ||
			count > MAX_CODES_PER_REQUEST
		) {
			throw new EngineError(
				'invalid_count',
				`The ${field} must be a whole number from 1 to ${MAX_CODES_PER_REQUEST.toLocaleString('en-US')}, got ${String(count)}`,
				{ field },
			);
		}
		const limit = Math.floor(this.format.space / 2);
		if (count > limit) {
			throw new EngineError(
				'space_too_small',
				`This code format has only ${this.format.space.toLocaleString('en-US')} possible codes (${this.format.entropyBits.toFixed(1)} bits), too few for ${count.toLocaleString('en-US')} distinct codes: a request may use at most half the space (${limit.toLocaleString('en-US')}). Use longer codes or a larger alphabet.`,
				{ field, details: { space: this.format.space, requested: count } },
			);
		}
	}

	/** Fill `values` with one acceptable code: random slots, then the check character. */
	private draw(): void {
		const { alphabet, randomSlots, slots, check, blocklist } = this.format;
		const size = alphabet.size;
		const values = this.values;
		const classes = this.classes;
		const classOf = this.format.letterClassOfValue;
		for (;;) {
			this.random.fill(values, randomSlots, size, this.mask);
			for (let j = 0; j < randomSlots; j++) classes[j] = classOf[values[j]];
			if (check) {
				const c = checkValue(check, values, randomSlots);
				if (c >= size) continue; // only possible for non-prime alphabets
				values[randomSlots] = c;
				classes[randomSlots] = classOf[c];
			}
			if (blocklist && blocklist.containsIn(classes, slots)) continue;
			return;
		}
	}

	private render(): string {
		const layout = this.format.layout;
		const chars = this.chars;
		let slot = 0;
		for (let i = 0; i < layout.length; i++) {
			if (layout[i] === -1) chars[i] = this.symbolCodes[this.values[slot++]];
		}
		const body = String.fromCharCode.apply(null, chars);
		return this.format.prefix === '' && this.format.suffix === ''
			? body
			: this.format.prefix + body + this.format.suffix;
	}
}

/**
 * Open-addressing set of non-negative integers below 2^53. A plain Set<number> boxes such large
 * numbers and was the slowest step of generating a million codes; this one stores them flat.
 */
class NumberSet {
	private readonly keys: Float64Array;
	private readonly mask: number;

	constructor(expected: number) {
		let capacity = 16;
		while (capacity < expected * 2) capacity *= 2;
		this.keys = new Float64Array(capacity).fill(-1);
		this.mask = capacity - 1;
	}

	/** Adds `key`; false when it was already there. */
	add(key: number): boolean {
		const low = (key % 4294967296) | 0;
		const high = (key / 4294967296) | 0;
		let slot = (Math.imul(low ^ Math.imul(high, 0x27d4eb2d), 0x9e3779b1) >>> 0) & this.mask;
		for (;;) {
			const existing = this.keys[slot];
			if (existing === -1) {
				this.keys[slot] = key;
				return true;
			}
			if (existing === key) return false;
			slot = (slot + 1) & this.mask;
		}
	}
}
