import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import {
	type CodeFormatOptions,
	CodeGenerator,
	DEFAULT_ALPHABET,
	DEFAULT_LENGTH,
} from '../../../engine/codes';
import { parameterReader } from '../../shared/parameters';

/** The "Code Format" parameter: how codes look. Shared by every operation that makes or reads codes. */
export const codeFormatProperty: INodeProperties = {
	displayName: 'Code Format',
	name: 'codeFormat',
	type: 'collection',
	placeholder: 'Add Format Option',
	default: {},
	description: 'How codes look. Use the same format when generating and when reading codes back.',
	options: [
		{
			displayName: 'Alphabet',
			name: 'alphabet',
			type: 'string',
			default: DEFAULT_ALPHABET,
			description:
				'Characters codes are made of; letters count without case. The default leaves out 0/O and 1/I/L, which people confuse.',
		},
		{
			displayName: 'Block Rude Words',
			name: 'blockRudeWords',
			type: 'boolean',
			default: true,
			description:
				'Whether to skip codes that spell a rude word, also in leet spelling such as 5H1T',
		},
		{
			displayName: 'Check Character',
			name: 'checkCharacter',
			type: 'boolean',
			default: true,
			description:
				'Whether the last character is a check character that catches every single mistyped character and every swap of two neighbours',
		},
		{
			displayName: 'Extra Blocked Words',
			name: 'extraBlockedWords',
			type: 'string',
			default: '',
			placeholder: 'e.g. COMPETITOR, FREE',
			description: 'More words codes must not contain, separated by commas',
		},
		{
			displayName: 'Length',
			name: 'length',
			type: 'number',
			typeOptions: { minValue: 2, maxValue: 64 },
			default: DEFAULT_LENGTH,
			description:
				'Characters per code, the check character included. Ignored when a pattern is set.',
		},
		{
			displayName: 'Letter Case',
			name: 'case',
			type: 'options',
			options: [
				{ name: 'Upper Case', value: 'upper' },
				{ name: 'Lower Case', value: 'lower' },
			],
			default: 'upper',
		},
		{
			displayName: 'Pattern',
			name: 'pattern',
			type: 'string',
			default: '',
			placeholder: 'XXXX-XXXX',
			description:
				'One X per code character, with separators (- _ . / or space) between groups. Overrides Length.',
		},
		{
			displayName: 'Prefix',
			name: 'prefix',
			type: 'string',
			default: '',
			placeholder: 'e.g. FRIEND-',
			description: 'Fixed text before every code',
		},
		{
			displayName: 'Suffix',
			name: 'suffix',
			type: 'string',
			default: '',
			description: 'Fixed text after every code',
		},
	],
};

/** Labels of the format fields, for error messages that point at the right place in the form. */
export const codeFormatLabels: Record<string, string> = {
	alphabet: 'Code Format › Alphabet',
	length: 'Code Format › Length',
	pattern: 'Code Format › Pattern',
	prefix: 'Code Format › Prefix',
	suffix: 'Code Format › Suffix',
	case: 'Code Format › Letter Case',
};

interface FormatParameter extends Omit<CodeFormatOptions, 'extraBlockedWords'> {
	extraBlockedWords?: string;
}

/**
 * The code generator for an item. The format is parsed once per execution unless it holds
 * expressions; an invalid format throws for every item that uses it, naming the field.
 */
export function codeGeneratorReader(ctx: IExecuteFunctions): (itemIndex: number) => CodeGenerator {
	const readFormat = parameterReader<FormatParameter>(ctx, 'codeFormat', {});
	const cache = new Map<string, CodeGenerator>();
	return (itemIndex) => {
		const raw = readFormat(itemIndex);
		const key = JSON.stringify(raw);
		let generator = cache.get(key);
		if (!generator) {
			generator = new CodeGenerator({
				...raw,
				pattern: raw.pattern || undefined,
				extraBlockedWords: (raw.extraBlockedWords ?? '').split(','),
			});
			cache.set(key, generator);
		}
		return generator;
	};
}
