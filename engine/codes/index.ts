/** The referral code engine: formats, CSPRNG generation with a check character, reading typed codes. */
export { DEFAULT_ALPHABET, parseAlphabet } from './alphabet';
export { createBlocklist } from './blocklist';
export {
	type CodeFormat,
	type CodeFormatOptions,
	collisionProbability,
	DEFAULT_LENGTH,
	parseCodeFormat,
} from './format';
export { CodeGenerator, type CodeSpaceReport, MAX_CODES_PER_REQUEST } from './generator';
export { formatValues, normalizeCode, type NormalizedCode, requireCode } from './normalize';
export { checkVanityCode, type VanityCheck } from './vanity';
