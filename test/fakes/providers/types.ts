/* The shape every provider fake shares, so one contract suite can drive them all. */
import type { FakeResponse, HttpFake } from '../http';

export interface ProviderFailures {
	/** The provider's documented answer to too many requests, announcing a wait of `retryAfterSeconds`. */
	rateLimited(retryAfterSeconds: number): FakeResponse;
	/** A documented temporary server-side failure. */
	serverError(): FakeResponse;
	/** A documented permanent rejection of the request (bad recipient, bad sender…). */
	permanent(): FakeResponse;
	/** The provider refusing this recipient (STOP, inactive, barred), when it reports that synchronously. */
	suppressed?(): FakeResponse;
}

export interface ProviderFake extends HttpFake {
	failures: ProviderFailures;
	/** Provider ids handed out for accepted messages, in order. */
	acceptedIds: string[];
	/** The text the provider puts in its permanent-failure shape, for asserting it reaches the user. */
	permanentText: string;
}
