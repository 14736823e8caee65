/* pages(): keyset paging over the ledger's id-ordered lists, once for every caller. */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteLedger, pages } from '../../engine/ledger';
import { tempDir } from '../support/databases';

const rows = (ids: number[]) => ids.map((id) => ({ id }));

/** A list of these ids that answers like the ledger's lists and records each call. */
function listOf(ids: number[]) {
	const calls: Array<[number | undefined, number]> = [];
	const list = async (afterId: number | undefined, limit: number) => {
		calls.push([afterId, limit]);
		return rows(ids.filter((id) => afterId === undefined || id > afterId).slice(0, limit));
	};
	return { list, calls };
}

async function collect<T>(iterator: AsyncGenerator<T[]>): Promise<T[][]> {
	const out: T[][] = [];
	for await (const page of iterator) out.push(page);
	return out;
}

describe('pages', () => {
	it('reads page after page from the last id, and stops at the first short page', async () => {
		const { list, calls } = listOf([2, 3, 5, 7, 11, 13, 17]);
		expect(await collect(pages(list, 3))).toEqual([rows([2, 3, 5]), rows([7, 11, 13]), rows([17])]);
		expect(calls).toEqual([
			[undefined, 3],
			[5, 3],
			[13, 3],
		]);
	});

	it('yields the empty last page when the rows fill whole pages, and one empty page for an empty list', async () => {
		const full = listOf([1, 2, 3, 4]);
		expect(await collect(pages(full.list, 2))).toEqual([rows([1, 2]), rows([3, 4]), []]);
		expect(full.calls).toEqual([
			[undefined, 2],
			[2, 2],
			[4, 2],
		]);
		expect(await collect(pages(listOf([]).list, 5))).toEqual([[]]);
	});

	it('reads no further page once the caller stops', async () => {
		const { list, calls } = listOf([1, 2, 3, 4, 5, 6]);
		for await (const page of pages(list, 2)) if (page.some((r) => r.id === 4)) break;
		expect(calls).toEqual([
			[undefined, 2],
			[2, 2],
		]);
	});

	it('refuses a page size below 1', async () => {
		await expect(collect(pages(listOf([1]).list, 0))).rejects.toThrow(/page size of at least 1/);
	});

	describe('on a real ledger', () => {
		const tmp = tempDir();
		afterAll(() => tmp.remove());

		it('reads every participant of a program once, in id order', async () => {
			const ledger = await openSqliteLedger({
				backend: 'sqlite',
				path: join(tmp.dir, 'pages.sqlite'),
			});
			try {
				await ledger.ensureProgram({ id: 'p' });
				await ledger.ensureProgram({ id: 'other' });
				const ids: number[] = [];
				for (let i = 0; i < 11; i++) {
					ids.push(
						(await ledger.enrolParticipant({ programId: 'p', email: `p${i}@example.com` }))
							.participant.id,
					);
					await ledger.enrolParticipant({ programId: 'other', email: `o${i}@example.com` });
				}
				const seen = (
					await collect(
						pages(
							(afterId, limit) => ledger.listParticipants({ programId: 'p', afterId, limit }),
							4,
						),
					)
				).map((page) => page.map((p) => p.id));
				expect(seen.map((page) => page.length)).toEqual([4, 4, 3]);
				expect(seen.flat()).toEqual(ids);
			} finally {
				await ledger.close();
			}
		});
	});
});
