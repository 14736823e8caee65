/* Keyset paging over the ledger's lists (listReferrals, listRewards, listParticipants, listCodes,
 * pointsJournal, listMessages): every list is ordered by id and takes `afterId` and `limit`, so
 * reading all of one is always the same loop, written here once. */

/**
 * The pages of a list, in id order: `list(afterId, limit)` is called with `afterId` undefined first,
 * then with the id of the previous page's last row, until a page comes back shorter than `limit`
 * (that last page is yielded too, also when it is empty). Stopping early (`break`) reads no more.
 *
 * ```ts
 * for await (const page of pages((afterId, limit) => ledger.listRewards({ programId, referralId, afterId, limit }), 500)) all.push(...page);
 * ```
 */
export async function* pages<T extends { id: number }>(
	list: (afterId: number | undefined, limit: number) => Promise<T[]>,
	limit: number,
): AsyncGenerator<T[], void, undefined> {
	if (!Number.isInteger(limit) || limit < 1)
		throw new RangeError(`pages() needs a page size of at least 1 (got ${limit})`);
	let afterId: number | undefined;
	for (;;) {
		const page = await list(afterId, limit);
		yield page;
		if (page.length < limit) return;
		afterId = page[page.length - 1].id;
	}
}

/** Every row of a list, in id order, read page by page with {@link pages}. */
export async function allPages<T extends { id: number }>(
	list: (afterId: number | undefined, limit: number) => Promise<T[]>,
	limit: number,
): Promise<T[]> {
	const all: T[] = [];
	for await (const page of pages(list, limit)) all.push(...page);
	return all;
}
