/* Lead scoring inside real n8n (2.40.7, the package installed as a community package): one
 * execution makes 50,000 leads in a Code node, then scores them twice on parallel branches with the
 * same 10 rules: a Code node in plain JavaScript (what a user would otherwise write) and the Lead
 * Score node. Times are n8n's own per-node `executionTime`, best of RUNS executions; both branches
 * must give every lead the same score, so the comparison is like for like.
 * Run: npm run bench -- leadScore   (or: npx tsx bench/leadScore.n8n.bench.ts) */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { report } from './lib';
// @ts-expect-error plain ESM script without types
import * as n8n from '../scripts/n8n.mjs';

const LEADS = Number(process.env.LEADSCORE_BENCH_LEADS ?? 50_000);
const RUNS = Number(process.env.LEADSCORE_BENCH_RUNS ?? 3);
const COUNT = LEADS.toLocaleString('en');
const WORKFLOW_ID = 'rmLeadScoreBench';
/** Both scorers measure decay and "within the last days" from this moment, so they agree to the bit. */
const SCORE_AS_OF = '2026-03-01T00:00:00.000Z';

const makeLeads = `
// Deterministic leads (mulberry32), dated up to 120 days before the scoring time.
let seed = 42;
const random = () => {
	seed = (seed + 0x6d2b79f5) | 0;
	let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
	t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
	return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = (list) => list[Math.floor(random() * list.length)];
const NOW = Date.parse('${SCORE_AS_OF}');
const DAY = 86400000;
const daysAgo = (max) => new Date(NOW - Math.floor(random() * max * DAY)).toISOString();
const domains = ['gmail.com', 'yahoo.com', 'hotmail.com', 'acme.io', 'bank.example', 'shop.example', 'clinic.example'];
const industries = ['SaaS', 'saas', 'Fintech', 'retail', 'healthcare', 'education'];
const countries = ['US', 'GB', 'DE', 'FR', 'IN', 'BR', 'us'];
const titles = ['Head of Growth', 'Marketing Manager', 'VP Sales', 'Intern', 'Director of Operations', 'Engineer', 'Chief Marketing Officer', 'Founder'];
const tagSets = [['trial'], ['newsletter'], ['trial', 'vip'], [], ['vip']];
const leads = [];
for (let i = 0; i < ${LEADS}; i++) {
	const webinar = random() < 0.3;
	const lead = {
		id: 'L-' + i,
		email: 'lead' + i + '@' + pick(domains),
		company: { name: 'Company ' + (i % 997), employees: Math.floor(Math.exp(random() * 9)), industry: pick(industries) },
		country: pick(countries),
		jobTitle: pick(titles),
		pricingViews: Math.floor(random() * 7),
		lastVisitAt: daysAgo(120),
		webinarAttended: webinar,
		createdAt: daysAgo(365),
	};
	if (webinar) lead.webinarAt = daysAgo(90);
	if (random() < 0.25) lead.referredBy = 'P-' + Math.floor(random() * 5000);
	if (random() < 0.8) lead.tags = pick(tagSets);
	leads.push({ json: lead });
}
return leads;
`;

const scoreInCode = `
// The same 10 rules a marketer would otherwise hand-code: total clamped to 0..100.
const NOW = Date.parse('${SCORE_AS_OF}');
const DAY = 86400000;
const GOOD_INDUSTRIES = new Set(['saas', 'fintech']);
const COUNTRIES = new Set(['us', 'gb', 'de']);
const SENIOR = /(head|director|vp|chief)/i;
const FREE_MAIL = /@(gmail|yahoo|hotmail)\\./i;
const out = [];
for (const item of $input.all()) {
	const lead = item.json;
	let score = 0;
	const company = lead.company || {};
	if (typeof company.employees === 'number' && company.employees >= 50 && company.employees <= 1000) score += 20;
	if (typeof company.industry === 'string' && GOOD_INDUSTRIES.has(company.industry.toLowerCase())) score += 15;
	if (typeof lead.jobTitle === 'string' && SENIOR.test(lead.jobTitle)) score += 15;
	if (typeof lead.email === 'string' && FREE_MAIL.test(lead.email)) score -= 10;
	if (typeof lead.country === 'string' && COUNTRIES.has(lead.country.toLowerCase())) score += 10;
	if (Number(lead.pricingViews) > 2) score += 20;
	const visitAge = NOW - Date.parse(lead.lastVisitAt);
	if (visitAge >= 0 && visitAge <= 30 * DAY) score += 15;
	if (lead.webinarAttended === true) score += 10 * Math.pow(0.5, Math.max(0, NOW - Date.parse(lead.webinarAt)) / (30 * DAY));
	if (lead.referredBy) score += 15;
	if (Array.isArray(lead.tags) && lead.tags.includes('trial')) score += 10;
	out.push({ json: { ...lead, score: Math.min(100, Math.max(0, score)) } });
}
return out;
`;

/** The same 10 rules in the Lead Score node's form. */
const rules = {
	rule: [
		{
			name: 'Company size',
			group: 'fit',
			field: 'company.employees',
			operator: 'between',
			min: 50,
			max: 1000,
			points: 20,
		},
		{
			name: 'Target industry',
			group: 'fit',
			field: 'company.industry',
			operator: 'inList',
			values: 'saas, fintech',
			points: 15,
		},
		{
			name: 'Senior title',
			group: 'fit',
			field: 'jobTitle',
			operator: 'regex',
			pattern: '(head|director|vp|chief)',
			points: 15,
		},
		{
			name: 'Free mail',
			group: 'fit',
			field: 'email',
			operator: 'regex',
			pattern: '@(gmail|yahoo|hotmail)\\.',
			points: -10,
		},
		{
			name: 'Target country',
			group: 'fit',
			field: 'country',
			operator: 'inList',
			values: 'US, GB, DE',
			points: 10,
		},
		{
			name: 'Pricing views',
			group: 'engagement',
			field: 'pricingViews',
			operator: 'greaterThan',
			number: 2,
			points: 20,
		},
		{
			name: 'Recent visit',
			group: 'engagement',
			field: 'lastVisitAt',
			operator: 'withinLastDays',
			days: 30,
			points: 15,
		},
		{
			name: 'Webinar',
			group: 'engagement',
			field: 'webinarAttended',
			operator: 'equals',
			value: 'true',
			points: 10,
			decay: 'exponential',
			decayDateField: 'webinarAt',
			halfLifeDays: 30,
		},
		{ name: 'Referred', group: 'referral', field: 'referredBy', operator: 'exists', points: 15 },
		{
			name: 'Trial',
			group: 'engagement',
			field: 'tags',
			operator: 'contains',
			value: 'trial',
			points: 10,
		},
	],
};

function node(
	id: string,
	name: string,
	type: string,
	typeVersion: number,
	x: number,
	y: number,
	parameters: Record<string, unknown>,
) {
	return { id, name, type, typeVersion, position: [x, y], parameters };
}

const LEAD_SCORE = 'n8n-nodes-referral-marketing.leadScore';
const leadScoreParameters = (output: string) => ({
	operation: 'scoreLeads',
	rules,
	total: { floor: 0, cap: 100 },
	output,
	options: { scoreAsOf: SCORE_AS_OF },
});

const workflow = {
	id: WORKFLOW_ID,
	name: `Bench: score ${COUNT} leads, Code node vs Lead Score node`,
	nodes: [
		node('a1', 'Start', 'n8n-nodes-base.manualTrigger', 1, 0, 0, {}),
		node('a2', 'Make Leads', 'n8n-nodes-base.code', 2, 220, 0, {
			mode: 'runOnceForAllItems',
			language: 'javaScript',
			jsCode: makeLeads,
		}),
		node('a3', 'Score in Code', 'n8n-nodes-base.code', 2, 440, -200, {
			mode: 'runOnceForAllItems',
			language: 'javaScript',
			jsCode: scoreInCode,
		}),
		node('a4', 'Lead Score', LEAD_SCORE, 1, 440, 0, leadScoreParameters('score')),
		node('a5', 'Lead Score (with why)', LEAD_SCORE, 1, 440, 200, leadScoreParameters('matched')),
	],
	connections: {
		Start: { main: [[{ node: 'Make Leads', type: 'main', index: 0 }]] },
		'Make Leads': {
			main: [
				[
					{ node: 'Score in Code', type: 'main', index: 0 },
					{ node: 'Lead Score', type: 'main', index: 0 },
					{ node: 'Lead Score (with why)', type: 'main', index: 0 },
				],
			],
		},
	},
	settings: { executionOrder: 'v1' },
	active: false,
};

interface Task {
	executionTime: number;
	data: { main: Array<Array<{ json: Record<string, any> }>> };
}

/**
 * `n8n execute --rawOutput`, its output written to a file: through a pipe n8n exits before tens of
 * megabytes have drained and the JSON arrives cut off; writes to a file are synchronous.
 */
function execute(bin: string, env: Record<string, string>, dir: string): any {
	const file = path.join(dir, 'execute.out');
	const fd = openSync(file, 'w');
	try {
		const result = spawnSync(
			process.execPath,
			[bin, 'execute', `--id=${WORKFLOW_ID}`, '--rawOutput'],
			{ env, stdio: ['ignore', fd, 'pipe'], encoding: 'utf8' },
		);
		if (result.status !== 0)
			throw new Error(
				`n8n execute failed (exit ${result.status}):\n${(result.stderr ?? '').slice(-4000)}`,
			);
	} finally {
		closeSync(fd);
	}
	const output = readFileSync(file, 'utf8');
	rmSync(file);
	return n8n.parseExecuteOutput(output);
}

function checkSameScores(code: Task, ours: Task, label: string): void {
	const a = code.data.main[0];
	const b = ours.data.main[0];
	if (a.length !== LEADS || b.length !== LEADS)
		throw new Error(
			`${label}: expected ${LEADS} items from each branch, got ${a.length} and ${b.length}`,
		);
	for (let i = 0; i < LEADS; i++) {
		const expected = a[i].json.score as number;
		const got = b[i].json.leadScore?.score as number;
		if (a[i].json.id !== b[i].json.id || !(Math.abs(expected - got) < 1e-9)) {
			throw new Error(
				`${label}: lead ${a[i].json.id} scores ${expected} in the Code node but ${got} in the Lead Score node; the comparison would not be fair`,
			);
		}
	}
}

async function main(): Promise<void> {
	const bin = n8n.ensureN8n();
	const userFolder = mkdtempSync(path.join(os.tmpdir(), 'rm-bench-leadscore-'));
	try {
		const tarball = n8n.packPackage({ build: true });
		n8n.installIntoUserFolder(userFolder, tarball);
		rmSync(path.dirname(tarball), { recursive: true, force: true });
		// Not below info: `n8n execute --rawOutput` prints its JSON through the logger at info level.
		const env = n8n.n8nEnv(userFolder, { N8N_LOG_LEVEL: 'info' });
		const file = path.join(userFolder, 'lead-score-bench.json');
		writeFileSync(file, JSON.stringify(workflow));
		n8n.importWorkflows(bin, env, [file], { activate: false });

		const best = { code: Infinity, score: Infinity, why: Infinity, make: Infinity };
		let distinctScores = 0;
		for (let run = 0; run < RUNS; run++) {
			const result = execute(bin, env, userFolder);
			if (result.status !== 'success')
				throw new Error(
					`The bench workflow ended with status ${result.status}: ${JSON.stringify(result.data?.resultData?.error ?? {}).slice(0, 2000)}`,
				);
			const runData = result.data.resultData.runData as Record<string, Task[]>;
			const code = runData['Score in Code'][0];
			const score = runData['Lead Score'][0];
			const why = runData['Lead Score (with why)'][0];
			checkSameScores(code, score, 'Score Only');
			checkSameScores(code, why, 'Score and Matched Rules');
			distinctScores = new Set(score.data.main[0].map((item) => item.json.leadScore.score)).size;
			best.make = Math.min(best.make, runData['Make Leads'][0].executionTime);
			best.code = Math.min(best.code, code.executionTime);
			best.score = Math.min(best.score, score.executionTime);
			best.why = Math.min(best.why, why.executionTime);
			process.stderr.write(
				`  run ${run + 1}: Code node ${code.executionTime} ms, Lead Score ${score.executionTime} ms, with why ${why.executionTime} ms (making the leads ${runData['Make Leads'][0].executionTime} ms)\n`,
			);
		}
		const note = `n8n 2.40.7 per-node executionTime, best of ${RUNS} executions; all ${COUNT} scores equal on both branches (${distinctScores} distinct values)`;
		report({
			name: `n8n: score ${COUNT} leads with 10 rules (Score Only: score, grade, matrix, stage)`,
			baseline: 'n8n Code node, same 10 rules in plain JavaScript',
			baselineSeconds: best.code / 1000,
			subject: 'Lead Score node, Score Leads, rules compiled once per execution',
			subjectSeconds: best.score / 1000,
			target: 5,
			note,
		});
		report({
			name: `n8n: score ${COUNT} leads with 10 rules and explain each (Score and Matched Rules)`,
			baseline: 'n8n Code node, same 10 rules in plain JavaScript (score only)',
			baselineSeconds: best.code / 1000,
			subject:
				'Lead Score node, Score Leads with the matched rules, decay and clipping on every lead',
			subjectSeconds: best.why / 1000,
			note,
		});
	} finally {
		rmSync(userFolder, { recursive: true, force: true });
	}
}

main().catch((error) => {
	process.stderr.write(
		`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
	);
	process.exitCode = 1;
});
