/* Program and Pool Name are pickers over the ledger (list search), and a key typed or saved as plain text still reads. */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ILoadOptionsFunctions } from 'n8n-workflow';
import { afterAll, describe, expect, it } from 'vitest';
import { closeAllLedgers, openLedger } from '../../engine/ledger';
import { locatorText, searchCouponPools, searchPrograms } from '../../nodes/shared/program';

const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'rm-picker-')), 'ledger.sqlite');
const credential = { backend: 'sqlite', path: file };

/** What n8n hands a list-search method: the node with its credential, and the current parameters. */
function loadOptions(parameters: Record<string, unknown> = {}): ILoadOptionsFunctions {
	return {
		getNode: () => ({
			id: 'n1',
			name: 'Referral Reward',
			type: 'referralReward',
			typeVersion: 1,
			position: [0, 0],
			parameters,
			credentials: { referralLedgerApi: { id: '1', name: 'Ledger' } },
		}),
		getCredentials: async () => credential,
		getCurrentNodeParameter: (name: string) => parameters[name],
	} as unknown as ILoadOptionsFunctions;
}

afterAll(async () => {
	await closeAllLedgers();
});

describe('the Program and Pool Name pickers', () => {
	it("list the ledger's programs, filtered by key or name", async () => {
		const ledger = await openLedger({ backend: 'sqlite', path: file });
		await ledger.ensureProgram({ id: 'spring-shop' });
		await ledger.ensureProgram({ id: 'autumn-shop' });
		expect((await searchPrograms.call(loadOptions())).results.map((r) => r.value)).toEqual([
			'autumn-shop',
			'spring-shop',
		]);
		expect(
			(await searchPrograms.call(loadOptions(), 'SPRING')).results.map((r) => r.value),
		).toEqual(['spring-shop']);
	});

	it("list the chosen program's coupon pools with the codes left", async () => {
		const ledger = await openLedger({ backend: 'sqlite', path: file });
		await ledger.loadCoupons({
			programId: 'spring-shop',
			pool: 'spring-20-eur',
			codes: ['A1', 'A2'],
		});
		await ledger.loadCoupons({ programId: 'autumn-shop', pool: 'autumn-10', codes: ['B1'] });
		const program = { __rl: true, mode: 'list', value: 'spring-shop' };
		expect((await searchCouponPools.call(loadOptions({ program }))).results).toEqual([
			{ name: 'spring-20-eur (2 of 2 left)', value: 'spring-20-eur' },
		]);
		expect(
			(await searchCouponPools.call(loadOptions({ program: 'autumn-shop' }), 'nothing')).results,
		).toEqual([]);
	});

	it('reads a picked, a typed and a plain-text (saved before the picker) key alike', () => {
		expect(locatorText({ __rl: true, mode: 'list', value: 'spring-shop' })).toBe('spring-shop');
		expect(locatorText({ __rl: true, mode: 'id', value: ' default ' })).toBe('default');
		expect(locatorText('default')).toBe('default');
		expect(locatorText(undefined)).toBe('');
	});
});
