/** Serialises async work per key in this process (each key's calls run one after another, in call order). */
export class KeyedMutex {
	private readonly tails = new Map<string, Promise<void>>();

	/** `busy`: the error to throw at once, instead of waiting, when the key is held (inside a ledger batch). */
	async run<T>(key: string, fn: () => Promise<T>, busy?: () => Error): Promise<T> {
		if (busy && this.tails.has(key)) throw busy();
		const previous = this.tails.get(key) ?? Promise.resolve();
		let release!: () => void;
		const current = new Promise<void>((resolve) => (release = resolve));
		const tail = previous.then(() => current);
		this.tails.set(key, tail);
		await previous;
		try {
			return await fn();
		} finally {
			release();
			if (this.tails.get(key) === tail) this.tails.delete(key);
		}
	}
}
