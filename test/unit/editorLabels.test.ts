/* What a marketer sees in n8n's editor before running anything: labels that fit, credential pickers
 * named for what they are, the defaults of the field-name and policy collections, n8n's own codex
 * categories, and a picker entry for Referral + Referral Trigger that describes both. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { INodeProperties, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { describe, expect, it } from 'vitest';
import { withDefaultsNotices } from '../../nodes/shared/defaultsNotice';

const ROOT = path.resolve(__dirname, '../..');
const NODE_DIRS = readdirSync(path.join(ROOT, 'nodes'), { withFileTypes: true })
	.filter((entry) => entry.isDirectory() && entry.name !== 'shared')
	.map((entry) => entry.name);

async function descriptionOf(dir: string): Promise<INodeTypeDescription> {
	const module = (await import(path.join(ROOT, 'nodes', dir, `${dir}.node.ts`))) as Record<
		string,
		new () => INodeType
	>;
	return new module[dir]().description;
}

/** Every parameter, the options of collections and the values of fixed collections included. */
function allParameters(properties: INodeProperties[]): INodeProperties[] {
	return properties.flatMap((property) => {
		const nested = (property.options ?? []).flatMap((option) => {
			if ('values' in option && Array.isArray(option.values))
				return allParameters(option.values as INodeProperties[]);
			if ('displayName' in option && 'type' in option)
				return allParameters([option as INodeProperties]);
			return [];
		});
		return [property, ...nested];
	});
}

// n8n cuts a label longer than this in the parameter panel ("Record Referral When a Code Is Pre…").
const MAX_LABEL = 32;

// The categories n8n's own nodes use (n8n-nodes-base codex files).
const N8N_CATEGORIES = [
	'AI',
	'Analytics',
	'Communication',
	'Core Nodes',
	'Data & Storage',
	'Development',
	'Finance & Accounting',
	'HITL',
	'Marketing',
	'Miscellaneous',
	'Productivity',
	'Sales',
	'Utility',
];

describe('the nodes in the editor', () => {
	it.each(NODE_DIRS)(
		'%s: every label fits and every credential picker is named, once',
		async (dir) => {
			const description = await descriptionOf(dir);
			const long = allParameters(description.properties)
				.filter(
					(parameter) => parameter.type !== 'notice' && parameter.displayName.length > MAX_LABEL,
				)
				.map((parameter) => parameter.displayName);
			expect(long).toEqual([]);
			const pickers = (description.credentials ?? []).map((credential) => credential.displayName);
			expect(
				pickers.every(
					(label) => typeof label === 'string' && label.length > 0 && label.length <= MAX_LABEL,
				),
				JSON.stringify(pickers),
			).toBe(true);
			expect(new Set(pickers).size).toBe(pickers.length);
		},
	);

	it.each(NODE_DIRS)("%s: its codex uses n8n's categories", (dir) => {
		const codex = JSON.parse(
			readFileSync(path.join(ROOT, 'nodes', dir, `${dir}.node.json`), 'utf8'),
		) as { categories: string[] };
		expect(codex.categories.filter((category) => !N8N_CATEGORIES.includes(category))).toEqual([]);
	});

	it("names every default of the Referral node's field and policy collections in a notice shown with the collection", async () => {
		const description = await descriptionOf('Referral');
		const collections = description.properties.filter((property) =>
			['inputFields', 'conversionFields', 'refundFields', 'fraudPolicy'].includes(property.name),
		);
		expect(collections.length).toBeGreaterThanOrEqual(5); // Input Fields twice (enrol, record), conversion, refund, fraud policy
		for (const collection of collections) {
			const index = description.properties.indexOf(collection);
			const notice = description.properties[index - 1];
			expect(notice).toMatchObject({
				type: 'notice',
				name: `${collection.name}Defaults`,
				displayOptions: collection.displayOptions,
			});
			for (const option of collection.options as INodeProperties[]) {
				if (typeof option.default === 'string' && option.default !== '')
					expect(notice.displayName).toContain(`${option.displayName}: ${option.default}`);
				if (typeof option.default === 'number')
					expect(notice.displayName).toContain(`${option.displayName}: ${option.default}`);
			}
		}
		// Input Fields names the request fields a sign-up reads.
		const inputFields = description.properties.find(
			(property) => property.name === 'inputFieldsDefaults',
		);
		expect(inputFields?.displayName).toContain('Email Field: email');
		expect(inputFields?.displayName).toContain('Referral Code Field: referralCode');
	});

	it('leaves collections without a default worth naming alone, and writes booleans as on/off', () => {
		const empty: INodeProperties = {
			displayName: 'Options',
			name: 'options',
			type: 'collection',
			default: {},
			options: [{ displayName: 'Tags', name: 'tags', type: 'string', default: '' }],
		};
		expect(withDefaultsNotices([empty], ['options'])).toEqual([empty]);
		const flags: INodeProperties = {
			displayName: 'Flags',
			name: 'flags',
			type: 'collection',
			default: {},
			options: [{ displayName: 'Strict', name: 'strict', type: 'boolean', default: true }],
		};
		expect(withDefaultsNotices([flags], ['flags'])[0].displayName).toBe(
			'Flags, unless changed below: Strict: on',
		);
		expect(withDefaultsNotices([flags], [])).toEqual([flags]);
	});

	it("describes the pair in the node picker's merged Referral entry, where n8n shows the trigger's description", async () => {
		// n8n's node creator merges an action node and "<name>Trigger" into one entry and gives it the trigger's description.
		const trigger = await descriptionOf('ReferralTrigger');
		expect(trigger.name.replace('Trigger', '')).toBe((await descriptionOf('Referral')).name);
		expect(trigger.description).toMatch(/enrol/);
		expect(trigger.description).toMatch(/events/);
	});
});
