/* The outbox: events appended in the writes that cause them (and on their own), read in id order by the trigger node. */
import type { LedgerCore } from '../core';
import { inputObject } from '../inputs';
import { digest, OUTBOX_LOCK } from '../once';
import { n, toEvent } from '../rows';
import { Params } from '../sql';
import type {
	AppendEventInput,
	AppendEventResult,
	LedgerEvent,
	LedgerStore,
	ReadEventsQuery,
	ReadEventsResult,
} from '../store';
import * as v from '../validate';
import { LIMITS } from '../validate';

type Methods = 'appendEvent' | 'readEvents' | 'latestEventId';

export class OutboxTable implements Pick<LedgerStore, Methods> {
	constructor(private readonly core: LedgerCore) {}

	async appendEvent(input: AppendEventInput): Promise<AppendEventResult> {
		// Its event goes in at once, in its place among the batch's (which go in at the batch's end).
		this.core.leaveBatch('appendEvent');
		return this.core.globalMutation<LedgerEvent, AppendEventResult>('appendEvent', input, () => {
			const programId = v.optText(input.programId, 'programId', 128);
			const type = v.eventType(input.type, 'type');
			const payload = v.jsonObject(input.payload, 'payload');
			return {
				programId,
				request: { type, payload: input.payload ?? {} },
				// Hash the object (sorted keys), not its serialisation: key order must not make a new event.
				derive: () => digest({ type, payload: input.payload ?? {} }),
				run: async (w) => {
					await this.core.driver.lock(w.tx, OUTBOX_LOCK);
					const row = await w.tx.get(
						`INSERT INTO outbox (program_id, type, payload, participant_id, created_at) VALUES ($1, $2, $3, NULL, $4) RETURNING *`,
						[programId ?? null, type, payload, w.now],
					);
					const event = toEvent(row!);
					return { receipt: event, result: { event, replayed: false } };
				},
				replay: async (event) => ({ event, replayed: true }),
			};
		});
	}

	async readEvents(query: ReadEventsQuery): Promise<ReadEventsResult> {
		inputObject(query, 'readEvents');
		const afterId = v.int(query.afterId, 'afterId', 0);
		const programId = v.optText(query.programId, 'programId', 128);
		const types =
			query.types === undefined || query.types === null
				? []
				: v
						.textList(query.types, 'types', LIMITS.listItems, LIMITS.eventType)
						.map((t, i) => v.eventType(t, `types[${i}]`));
		const limit = v.limit(query.limit);
		return this.core.read(async (tx) => {
			// Read the high-water mark first: every event up to it has committed (appends are
			// serialised in id order), so the cursor never passes an event that is still to come.
			const top = n((await tx.get(`SELECT COALESCE(MAX(id), 0) AS top FROM outbox`))!.top);
			const q = new Params();
			const where = [`id > ${q.p(afterId)}`, `id <= ${q.p(top)}`];
			if (types.length) where.push(`type IN ${q.list(types)}`);
			if (programId !== undefined) where.push(`program_id = ${q.p(programId)}`);
			const events = (
				await tx.all(
					`SELECT * FROM outbox WHERE ${where.join(' AND ')} ORDER BY id LIMIT ${q.p(limit)}`,
					q.values,
				)
			).map(toEvent);
			const cursor =
				events.length === limit ? events[events.length - 1].id : Math.max(afterId, top);
			return { events, cursor };
		});
	}

	async latestEventId(): Promise<number> {
		return this.core.read(async (tx) =>
			n((await tx.get(`SELECT COALESCE(MAX(id), 0) AS top FROM outbox`))!.top),
		);
	}
}
