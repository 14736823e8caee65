/* Generating 1,000,000 codes: our CSPRNG generator (with check character, blocklist and
 * de-duplication) against referral-codes@3 (Math.random), the generator a developer would pick. */
import { generate } from 'referral-codes';
import { CodeGenerator, DEFAULT_ALPHABET } from '../engine/codes';
import { bestOf, report } from './lib';

const COUNT = 1_000_000;

async function main(): Promise<void> {
	const ours = new CodeGenerator({ length: 8 });
	const baselineSeconds = await bestOf(3, () =>
		generate({ count: COUNT, length: 8, charset: DEFAULT_ALPHABET }),
	);
	const subjectSeconds = await bestOf(3, () => ours.generate(COUNT));
	report({
		name: 'generate 1,000,000 distinct 8-character codes',
		baseline: 'referral-codes@3 generate (Math.random, Set de-dup)',
		baselineSeconds,
		subject: 'engine/codes CodeGenerator (CSPRNG, check character, blocklist, de-dup)',
		subjectSeconds,
		target: 2,
		note: `${Math.round(COUNT / subjectSeconds).toLocaleString('en-US')} codes/s vs ${Math.round(COUNT / baselineSeconds).toLocaleString('en-US')} codes/s`,
	});
}

void main();
