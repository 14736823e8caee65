/**
 * A small built-in blocklist so no issued code spells a rude word, also in "leet" spelling
 * (4SS, 5H1T). Words are matched anywhere in the code's random characters.
 * It is deliberately small: it guards generated codes, it is not a moderation tool.
 */
const BUILT_IN_WORDS = [
	'ANAL',
	'ANUS',
	'ARSE',
	'ASS',
	'BASTARD',
	'BITCH',
	'BICH',
	'BOOB',
	'BUTT',
	'CHINK',
	'COCK',
	'COK',
	'COON',
	'CRAP',
	'CUM',
	'CUNT',
	'DAMN',
	'DICK',
	'DIK',
	'DYKE',
	'FAG',
	'FAP',
	'FCK',
	'FUC',
	'FUK',
	'FUX',
	'GOOK',
	'HOMO',
	'JIZ',
	'KIKE',
	'KKK',
	'KUNT',
	'NAZI',
	'NGR',
	'NIG',
	'PENIS',
	'PISS',
	'POO',
	'PORN',
	'PRICK',
	'PUSY',
	'PUSSY',
	'RAPE',
	'SEX',
	'SHAG',
	'SHT',
	'SHIT',
	'SLUT',
	'SPIC',
	'SUCK',
	'TIT',
	'TURD',
	'TWAT',
	'VAGINA',
	'WANK',
	'WHOR',
	'WOP',
	'XXX',
];

/** Digits read as letters (leet). Anything that is not a letter breaks a word. */
const LEET: Record<string, string> = {
	'0': 'O',
	'1': 'I',
	'3': 'E',
	'4': 'A',
	'5': 'S',
	'7': 'T',
	'8': 'B',
	'9': 'G',
	'6': 'G',
	'2': 'Z',
	$: 'S',
	'@': 'A',
};
const BREAK = 26;

export function letterClass(ch: string): number {
	const upper = (LEET[ch] ?? ch).toUpperCase();
	const code = upper.charCodeAt(0);
	return code >= 65 && code <= 90 ? code - 65 : BREAK;
}

const POW3 = 27 * 27 * 27;

/** Compiled blocklist: window lookups over letter classes, so checking a code costs a few array reads. */
export class Blocklist {
	private readonly three = new Uint8Array(27 * 27 * 27);
	/** 1: a blocked 4-letter word; 2: the first four letters of a longer blocked word. */
	private readonly four = new Uint8Array(27 * POW3);
	private readonly long: number[][] = [];
	private readonly words: number[][] = [];

	constructor(words: readonly string[] = BUILT_IN_WORDS) {
		for (const raw of words) {
			const word = [...raw.toUpperCase()].map(letterClass);
			if (word.length < 3 || word.includes(BREAK)) continue;
			this.words.push(word);
			if (word.length === 3) this.three[word[0] * 729 + word[1] * 27 + word[2]] = 1;
			else {
				const key = word[0] * POW3 + word[1] * 729 + word[2] * 27 + word[3];
				if (word.length === 4) this.four[key] = 1;
				else {
					if (this.four[key] === 0) this.four[key] = 2;
					this.long.push(word);
				}
			}
		}
	}

	/** Whether the letter classes `classes[0..length)` contain a blocked word. */
	containsIn(classes: ArrayLike<number>, length: number): boolean {
		for (let i = 2; i < length; i++) {
			const k3 = classes[i - 2] * 729 + classes[i - 1] * 27 + classes[i];
			if (this.three[k3] === 1) return true;
			if (i >= 3) {
				const hit = this.four[classes[i - 3] * POW3 + k3];
				if (hit === 1) return true;
				if (hit === 2 && this.longWordAt(classes, length, i - 3)) return true;
			}
		}
		return false;
	}

	/** The first blocked word found in `text` (for messages), or undefined. */
	contains(text: string): string | undefined {
		const classes = [...text].map(letterClass);
		if (!this.containsIn(classes, classes.length)) return undefined;
		const joined = `,${classes.join(',')},`;
		const word = this.words.find((w) => joined.includes(`,${w.join(',')},`));
		return word ? word.map((c) => String.fromCharCode(65 + c)).join('') : 'a blocked word';
	}

	private longWordAt(classes: ArrayLike<number>, length: number, start: number): boolean {
		outer: for (const word of this.long) {
			if (start + word.length > length) continue;
			for (let j = 0; j < word.length; j++) if (classes[start + j] !== word[j]) continue outer;
			return true;
		}
		return false;
	}
}

export function createBlocklist(extraWords: readonly string[] = []): Blocklist {
	return new Blocklist([...BUILT_IN_WORDS, ...extraWords]);
}
