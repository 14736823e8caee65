/*
 * Synthetic leads from a known logistic model, so tests know the true conversion probability of
 * every lead and the true coefficients. Independent of the engine's own PRNG on purpose.
 */

/** xorshift128+ style generator on 32-bit halves (sfc32), seeded by splitmix32. */
export function seededRandom(seed: number): () => number {
	let s = seed >>> 0;
	const next = (): number => {
		s = (s + 0x9e3779b9) >>> 0;
		let z = s;
		z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
		z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
		return (z ^ (z >>> 16)) >>> 0;
	};
	let a = next();
	let b = next();
	let c = next();
	let d = next();
	return () => {
		const t = (((a + b) >>> 0) + d) >>> 0;
		d = (d + 1) >>> 0;
		a = b ^ (b >>> 9);
		b = (c + (c << 3)) >>> 0;
		c = ((c << 21) | (c >>> 11)) >>> 0;
		c = (c + t) >>> 0;
		return t / 4294967296;
	};
}

function normal(random: () => number): number {
	const u = 1 - random();
	const v = random();
	return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function poisson(random: () => number, mean: number): number {
	const limit = Math.exp(-mean);
	let k = 0;
	let p = random();
	while (p > limit) {
		k++;
		p *= random();
	}
	return k;
}

/** True effects on the log-odds, per unit of each field (categories against "other"). */
export const TRUE_MODEL = {
	intercept: -2.2,
	seniority: 0.9,
	pricingViews: 0.45,
	daysSinceLastVisit: -0.04,
	companySizeLog10: 0.6,
	referred: 0.7,
	industry: { saas: 0.8, finance: 0.4, retail: -0.3, other: 0 } as Record<string, number>,
};

export interface SyntheticLead {
	id: number;
	createdAt: string;
	seniority: number;
	pricingViews: number;
	daysSinceLastVisit: number;
	companySizeLog10: number;
	referred: boolean;
	industry: string;
	converted: boolean;
	/** The true conversion probability (never a model input). */
	trueProbability: number;
}

export function trueLogit(
	lead: Omit<SyntheticLead, 'converted' | 'trueProbability' | 'id' | 'createdAt'>,
): number {
	const m = TRUE_MODEL;
	return (
		m.intercept +
		m.seniority * lead.seniority +
		m.pricingViews * lead.pricingViews +
		m.daysSinceLastVisit * lead.daysSinceLastVisit +
		m.companySizeLog10 * lead.companySizeLog10 +
		(lead.referred ? m.referred : 0) +
		m.industry[lead.industry] -
		// Centre the intercept so the base rate sits near 20 %.
		3.1
	);
}

const INDUSTRIES = ['saas', 'finance', 'retail', 'other'];
const INDUSTRY_WEIGHTS = [0.3, 0.2, 0.25, 0.25];

/** `n` leads created one after another over a year from `start`; outcomes drawn from the true model. */
export function generateLeads(
	n: number,
	seed: number,
	start = Date.parse('2023-01-01T00:00:00Z'),
): SyntheticLead[] {
	const random = seededRandom(seed);
	const leads: SyntheticLead[] = [];
	const span = 365 * 86_400_000;
	for (let i = 0; i < n; i++) {
		let r = random();
		let industry = INDUSTRIES[INDUSTRIES.length - 1];
		for (let k = 0; k < INDUSTRIES.length; k++) {
			if (r < INDUSTRY_WEIGHTS[k]) {
				industry = INDUSTRIES[k];
				break;
			}
			r -= INDUSTRY_WEIGHTS[k];
		}
		const features = {
			seniority: 1 + Math.floor(random() * 5),
			pricingViews: poisson(random, 2),
			daysSinceLastVisit: Math.round(random() * 90 * 10) / 10,
			companySizeLog10: 1 + 0.7 * normal(random) + 1,
			referred: random() < 0.25,
			industry,
		};
		const p = 1 / (1 + Math.exp(-trueLogit(features)));
		leads.push({
			id: i,
			createdAt: new Date(start + Math.floor((i / n) * span)).toISOString(),
			...features,
			converted: random() < p,
			trueProbability: p,
		});
	}
	return leads;
}
