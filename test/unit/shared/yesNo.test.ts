/* The one yes/no rule for flags read from input items (consent, existing customer, cancelled, referred). */
import { describe, expect, it } from 'vitest';
import { isYes } from '../../../engine/shared/guards';

describe('isYes', () => {
	it.each([true, 'true', 'yes', 'YES', ' True ', 'Yes'])('counts %j as yes', (value) => {
		expect(isYes(value)).toBe(true);
	});

	it.each([false, 'false', 'no', '', 'y', '1', 1, 0, null, undefined, {}, ['yes']])(
		'counts %j as no',
		(value) => {
			expect(isYes(value)).toBe(false);
		},
	);
});
