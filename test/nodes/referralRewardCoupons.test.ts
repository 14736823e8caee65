import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { IDataObject } from 'n8n-workflow';
import { afterAll, describe, expect, it } from 'vitest';
import { closeAllLedgers, openLedger } from '../../engine/ledger';
import { runWorkflow, singleNodeWorkflow } from '../harness';

afterAll(async () => {
	await closeAllLedgers();
});

const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'rm-coupons-')), 'ledger.sqlite');
const run = (parameters: IDataObject, items: IDataObject[], continueOnFail = false) =>
	runWorkflow(
		singleNodeWorkflow(
			{
				type: 'referralReward',
				parameters: { resource: 'reward', operation: 'loadCoupons', ...parameters },
				continueOnFail,
				credentials: { referralLedgerApi: { id: '1', name: 'Ledger' } },
			} as never,
			items,
		),
		{ credentials: { referralLedgerApi: { backend: 'sqlite', path: file } } },
	);

describe('Referral Reward › Load Coupon Pool', () => {
	it('loads codes from items into a pool once, however often it runs', async () => {
		const items = [{ code: 'SHOP-20-AAA' }, { code: 'SHOP-20-BBB' }, { code: 'SHOP-20-CCC' }];
		const first = await run({ pool: 'spring-20-eur', codeField: 'code' }, items);
		expect(first.json('Node')).toEqual([
			{ pool: 'spring-20-eur', added: 3, duplicates: 0, available: 3 },
		]);
		expect(first.items('Node')[0].pairedItem).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
		const again = await run({ pool: 'spring-20-eur', codeField: 'code' }, [
			...items,
			{ code: 'SHOP-20-DDD' },
		]);
		expect(again.json('Node')[0]).toMatchObject({ added: 1, duplicates: 3, available: 4 });
		const ledger = await openLedger({ backend: 'sqlite', path: file });
		expect(
			await ledger.countCoupons({ programId: 'default', pool: 'spring-20-eur' }),
		).toMatchObject({ available: 4 });
	});

	it('names the item and the field when a code is missing, and writes nothing', async () => {
		const result = await run({ pool: 'other', codeField: 'coupon' }, [
			{ coupon: 'X-1' },
			{ nothing: true },
		]);
		expect(result.error('Node')?.message).toContain(
			'Item 1: the field "coupon" must hold a coupon code',
		);
		expect(result.error('Node')?.description).toContain('Coupon Code Field');
		const ledger = await openLedger({ backend: 'sqlite', path: file });
		expect(await ledger.countCoupons({ programId: 'default', pool: 'other' })).toMatchObject({
			available: 0,
		});
	});
});
