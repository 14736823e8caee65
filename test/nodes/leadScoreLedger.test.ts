import type { IDataObject } from 'n8n-workflow';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeAllLedgers, openLedger } from '../../engine/ledger';
import { runWorkflow, singleNodeWorkflow } from '../harness';
import { generateLeads } from '../unit/scoring/synthetic';

afterAll(async () => {
	await closeAllLedgers();
});

const ledgerFile = () =>
	path.join(mkdtempSync(path.join(os.tmpdir(), 'rm-leadscore-')), 'ledger.sqlite');

function run(file: string, parameters: Record<string, unknown>, items: IDataObject[]) {
	return runWorkflow(
		singleNodeWorkflow(
			{
				type: 'leadScore',
				parameters,
				credentials: { referralLedgerApi: { id: '1', name: 'Ledger' } },
			} as never,
			items,
		),
		{ credentials: { referralLedgerApi: { backend: 'sqlite', path: file } } },
	);
}

describe('Lead Score with the referral ledger', () => {
	it('saves a trained model by name and scores with the saved model', async () => {
		const file = ledgerFile();
		const training = generateLeads(800, 7);
		const features = {
			feature: [
				{ field: 'seniority', type: 'numeric', name: '' },
				{ field: 'pricingViews', type: 'numeric', name: '' },
			],
		};
		const trained = await run(
			file,
			{ operation: 'train', label: 'converted', features, saveAs: 'demo-model' },
			training as never,
		);
		const out = trained.json('Node')[0];
		expect(out.savedAs).toMatchObject({ name: 'demo-model', version: 1, changed: true });

		const leads = generateLeads(5, 9).map(
			({ converted: _c, trueProbability: _p, ...lead }) => lead,
		);
		const fromLedger = await run(
			file,
			{ operation: 'scoreWithModel', modelSource: 'ledger', modelName: 'demo-model' },
			leads as never,
		);
		const fromJson = await run(
			file,
			{ operation: 'scoreWithModel', modelSource: 'parameter', model: JSON.stringify(out.model) },
			leads as never,
		);
		expect(
			fromLedger.json('Node').map((j) => (j.modelScore as { probability: number }).probability),
		).toEqual(
			fromJson.json('Node').map((j) => (j.modelScore as { probability: number }).probability),
		);

		const missing = await run(
			file,
			{ operation: 'scoreWithModel', modelSource: 'ledger', modelName: 'nope' },
			[{}],
		);
		expect(missing.error('Node')?.message).toContain('No model named "nope"');
		expect(missing.error('Node')?.description).toContain('Model Name');
	});

	it('adds referral features from the ledger so rules can score referrers', async () => {
		const file = ledgerFile();
		const ledger = await openLedger({ backend: 'sqlite', path: file });
		await ledger.ensureProgram({ id: 'default' });
		const { participant: ann } = await ledger.enrolParticipant({
			programId: 'default',
			email: 'ann@example.com',
		});
		for (const friend of ['f1@example.com', 'f2@example.com', 'f3@example.com']) {
			const { participant } = await ledger.enrolParticipant({
				programId: 'default',
				email: friend,
			});
			const { referral } = await ledger.recordReferral({
				programId: 'default',
				referrerId: ann.id,
				refereeId: participant.id,
				status: 'pending',
			});
			if (friend !== 'f3@example.com') {
				await ledger.qualifyReferral({
					programId: 'default',
					referralId: referral.id,
					orderId: `o-${friend}`,
					amount: 10,
					currency: 'EUR',
					fromStatuses: ['pending'],
				});
			}
		}
		await ledger.appendPoints({
			programId: 'default',
			participantId: ann.id,
			delta: 200,
			reason: 'test',
		});

		const parameters = {
			operation: 'scoreLeads',
			output: 'score',
			rules: {
				rule: [
					{
						group: 'referral',
						field: 'referral.qualified',
						operator: 'greaterThan',
						number: 1,
						points: 30,
					},
				],
			},
			options: { referralFeatures: true, emailField: 'email' },
		};
		const result = await run(file, parameters, [
			{ email: 'ANN@example.com' },
			{ email: 'new@example.com' },
		]);
		const [annLead, newLead] = result.json('Node');
		expect(annLead.referral).toMatchObject({ enrolled: true, made: 3, qualified: 2, points: 200 });
		expect((annLead.leadScore as { total: number }).total).toBe(30);
		expect(newLead.referral).toMatchObject({ enrolled: false, made: 0, qualified: 0 });
		expect((newLead.leadScore as { total: number }).total).toBe(0);
	});
});
