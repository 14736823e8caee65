/* What every table shares: times and ids, the configuration, events and owed messages a write carries, replays, status changes. */

export type Time = number | Date | string;

export type Id = number | string;

export type LedgerConfig = SqliteLedgerConfig | PostgresLedgerConfig;

export interface SqliteLedgerConfig {
	backend: 'sqlite';
	/** Database file; created if missing. `defaultSqlitePath(userFolder)` gives the usual one. */
	path: string;
	/** How long SQLite itself waits for a lock before our own retry loop takes over (default 50 ms). */
	busyTimeoutMs?: number;
	/** Total time to keep retrying a locked write before giving up (default 30 s). */
	lockWaitMs?: number;
	/** `normal` (default) survives a process crash; `full` also survives power loss, slower. */
	synchronous?: 'normal' | 'full';
}

export interface PostgresLedgerConfig {
	backend: 'postgres';
	connectionString?: string;
	host?: string;
	port?: number;
	database?: string;
	user?: string;
	password?: string;
	ssl?: boolean | { rejectUnauthorized?: boolean; ca?: string };
	/** Schema holding the ledger's tables, created if missing (default `referral_ledger`). */
	schema?: string;
	/** Connections in this process's pool (default 10). */
	poolSize?: number;
}

export interface OpenOptions {
	/** Clock for tests; defaults to Date.now. */
	now?: () => number;
}

export interface EventInput {
	type: string;
	payload?: Record<string, unknown>;
}

export interface Mutation {
	idempotencyKey?: string;
	events?: EventInput[];
}

/** A message owed to a person because of this write (a reward notice, a welcome email or text). */
export interface OweMessageInput {
	/**
	 * The message's key, unique in the whole ledger: the message is owed (and sent) once, e.g.
	 * `referral-12-rewarded-34`. 1 to 190 visible ASCII characters.
	 */
	key: string;
	channel: 'email' | 'sms';
	/** Email address, or phone number in E.164. */
	recipient: string;
	/** What kind of message it is, e.g. `reward.earned` or `welcome`: the sender picks its templates by it. */
	topic: string;
	participantId?: Id;
	/** The data the templates render (at most 64 KiB as JSON). */
	data?: Record<string, unknown>;
	/**
	 * List fields of `data` that a later write adds to while the message is still owed (one notice
	 * for every reward of an evaluation). Once the message is claimed, a later write owes a new part
	 * (`<key>~1`, `~2`…), delivered with its group.
	 */
	collect?: string[];
	/** Not to be sent before this time (default: now). */
	dueAt?: Time;
}

export interface OwesMessages {
	/** Messages this write owes to people, written in its transaction (not on a replay). */
	messages?: OweMessageInput[];
}

export interface Replayable {
	/** True when this result was stored by an earlier call with the same idempotency key. */
	replayed: boolean;
}

export interface StatusChange {
	id: number;
	from: string | null;
	to: string;
	reason: string | null;
	at: number;
}

export interface TransitionResult<T> extends Replayable {
	/** True for the one caller whose compare-and-set won (and for its replays). */
	transitioned: boolean;
	/** The status the record has now. */
	status: string;
	record: T;
}

/** Prune Ledger: forget what is delivered or answered and older than `before`. */
export interface PruneLedgerInput {
	before: Time;
	/** Rows per transaction (default 2,000). */
	batchSize?: number;
}

/** How many rows each kind lost, and the cutoff (epoch ms) they were older than. */
export interface PruneLedgerResult {
	before: number;
	events: number;
	messages: number;
	idempotencyKeys: number;
}
