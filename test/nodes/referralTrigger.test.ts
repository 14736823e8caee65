import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { IDataObject, IPollFunctions } from 'n8n-workflow';
import { afterAll, describe, expect, it } from 'vitest';
import { closeAllLedgers, openLedger } from '../../engine/ledger';
import { ReferralService, saveReferralProgram } from '../../engine/referrals';
import { ReferralTrigger } from '../../nodes/ReferralTrigger/ReferralTrigger.node';
import { ledgerConfigFromCredential } from '../../nodes/shared/ledger';
import { pgTestUrl, withPgSchema } from './ledgerBackends';

/** DROP SCHEMA can hit a deadlock with another test file's migrations running at the same moment; it is only cleanup, so retry. */
function withRetriedCleanup(backend: {
	credential: Record<string, unknown>;
	cleanup: () => Promise<void>;
}) {
	return {
		credential: backend.credential,
		cleanup: async () => {
			for (let attempt = 1; ; attempt++) {
				try {
					return await backend.cleanup();
				} catch (error) {
					if (attempt >= 5 || !/deadlock/i.test(String((error as Error).message))) throw error;
					await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
				}
			}
		},
	};
}

afterAll(async () => {
	await closeAllLedgers();
});

/** The few IPollFunctions members the trigger uses; static data lives in `staticData` like n8n keeps it per node. */
function pollContext(
	credential: Record<string, unknown>,
	parameters: IDataObject,
	staticData: IDataObject,
	mode: 'trigger' | 'manual' = 'trigger',
): IPollFunctions {
	return {
		getNodeParameter: (name: string, fallback?: unknown) =>
			name in parameters ? parameters[name] : fallback,
		getWorkflowStaticData: () => staticData,
		getMode: () => mode,
		getNode: () => ({
			name: 'Referral Trigger',
			credentials: { referralLedgerApi: { id: '1', name: 'Ledger' } },
		}),
		getCredentials: async () => credential,
		helpers: { returnJsonArray: (items: IDataObject[]) => items.map((json) => ({ json })) },
	} as unknown as IPollFunctions;
}

const backends: Array<
	[string, () => Promise<{ credential: Record<string, unknown>; cleanup: () => Promise<void> }>]
> = [
	[
		'SQLite',
		async () => ({
			credential: {
				backend: 'sqlite',
				path: path.join(mkdtempSync(path.join(os.tmpdir(), 'rm-trig-')), 'l.sqlite'),
			},
			cleanup: async () => {},
		}),
	],
	['PostgreSQL', async () => withRetriedCleanup(await withPgSchema())],
];

for (const [name, open] of backends) {
	describe.skipIf(name === 'PostgreSQL' && !pgTestUrl())(`Referral Trigger on ${name}`, () => {
		it('starts at the current end, delivers each matching event once in order, filters by type and program, resumes after a restart', async () => {
			const { credential, cleanup } = await open();
			try {
				const ledger = await openLedger(ledgerConfigFromCredential(credential as never));
				await saveReferralProgram(ledger, { programId: 'p' });
				await saveReferralProgram(ledger, { programId: 'other' });
				const svc = await ReferralService.open(ledger, 'p');
				const other = await ReferralService.open(ledger, 'other');
				const ana = await svc.enrol({ email: 'ana@example.com' });
				const trigger = new ReferralTrigger();
				const stored: IDataObject = {};
				const params = {
					events: ['referral.recorded', 'referral.flagged', 'referral.qualified'],
					program: 'p',
					maxEvents: 2,
				};
				// First activation: nothing from before.
				expect(await trigger.poll.call(pollContext(credential, params, stored))).toBeNull();
				await svc.enrol({ email: 'b@example.org', referralCode: ana.participant.code! });
				await svc.enrol({ email: 'c@mailinator.com', referralCode: ana.participant.code! });
				await svc.qualify({ email: 'b@example.org', orderId: 'o1', amount: 5, currency: 'EUR' });
				await other.enrol({
					email: 'x@example.org',
					referralCode: (await other.enrol({ email: 'y@example.org' })).participant.code!,
				});
				const first = await trigger.poll.call(pollContext(credential, params, stored));
				expect(first![0].map((i) => i.json.type)).toEqual([
					'referral.recorded',
					'referral.recorded',
				]);
				// A restart: n8n gives the node its saved static data back; a fresh object copy proves nothing lives in memory.
				const restarted = JSON.parse(JSON.stringify(stored)) as IDataObject;
				const second = await trigger.poll.call(pollContext(credential, params, restarted));
				expect(second![0].map((i) => i.json.type)).toEqual([
					'referral.flagged',
					'referral.qualified',
				]);
				expect(second![0][1].json).toMatchObject({
					program: 'p',
					referral: { status: 'qualified' },
					conversion: { orderId: 'o1' },
				});
				expect(await trigger.poll.call(pollContext(credential, params, restarted))).toBeNull();
				const ids = [...first![0], ...second![0]].map((i) => i.json.id as number);
				expect(ids).toEqual([...ids].sort((a, b) => a - b));
				// Manual "fetch test event": the latest matching events, cursor untouched.
				const before = restarted.lastEventId;
				const manual = await trigger.poll.call(
					pollContext(
						credential,
						{ ...params, events: ['participant.enrolled'] },
						restarted,
						'manual',
					),
				);
				expect(manual![0].at(-1)!.json).toMatchObject({
					type: 'participant.enrolled',
					participant: { email: 'c@mailinator.com' },
				});
				expect(restarted.lastEventId).toBe(before);
				await expect(
					trigger.poll.call(pollContext(credential, { ...params, events: [] }, restarted)),
				).rejects.toThrow('Choose at least one event');
			} finally {
				await cleanup();
			}
		});
	});
}
