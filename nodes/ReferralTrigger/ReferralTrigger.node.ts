import type {
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
	IPollFunctions,
} from 'n8n-workflow';
import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';
import type { LedgerEvent } from '../../engine/ledger';
import { ledgerFor, ledgerNotice, referralLedgerConnectionTest } from '../shared/ledger';

/** The outbox event types a workflow can start on; the ledger and the services write them. */
export const TRIGGER_EVENTS = [
	{ name: 'Badge Earned', value: 'badge.earned' },
	{ name: 'Badge Lost', value: 'badge.lost' },
	{ name: 'Participant Enrolled', value: 'participant.enrolled' },
	{ name: 'Referral Flagged', value: 'referral.flagged' },
	{ name: 'Referral Qualified', value: 'referral.qualified' },
	{ name: 'Referral Recorded', value: 'referral.recorded' },
	{ name: 'Referral Rejected', value: 'referral.rejected' },
	{ name: 'Referral Reversed', value: 'referral.reversed' },
	{ name: 'Reward Awarded', value: 'reward.awarded' },
	{ name: 'Tier Lost', value: 'tier.lost' },
	{ name: 'Tier Reached', value: 'tier.reached' },
];

interface Cursor {
	/** The id of the last event delivered (or skipped by the filters); the next poll reads after it. */
	lastEventId?: number;
}

export class ReferralTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Referral Trigger',
		name: 'referralTrigger',
		icon: { light: 'file:referralTrigger.svg', dark: 'file:referralTrigger.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{ $parameter["events"].join(", ") }}',
		// n8n's node picker merges "Referral" and "Referral Trigger" into one entry and shows the trigger's
		// description for both, so this one says what the pair does.
		description:
			'Run a referral program: enrol, record, qualify and review referrals with the actions; start workflows on its events (sign-ups, rewards, tiers)',
		defaults: { name: 'Referral Trigger' },
		polling: true,
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{
				name: 'referralLedgerApi',
				displayName: 'Ledger Database',
				required: false,
				testedBy: 'referralLedgerConnectionTest',
			},
		],
		properties: [
			ledgerNotice,
			{
				displayName:
					'On activation the trigger starts with the events that happen from then on; older events are not replayed. Each event starts the workflow once.',
				name: 'cursorNotice',
				type: 'notice',
				default: '',
			},
			{
				displayName: 'Events',
				name: 'events',
				type: 'multiOptions',
				options: TRIGGER_EVENTS,
				default: ['referral.qualified'],
				required: true,
				description: 'Which events start the workflow',
			},
			{
				displayName: 'Program',
				name: 'program',
				type: 'string',
				default: '',
				placeholder: 'e.g. default',
				description: 'Only events of this program; empty for every program',
			},
			{
				displayName: 'Max Events per Poll',
				name: 'maxEvents',
				type: 'number',
				typeOptions: { minValue: 1, maxValue: 10000 },
				default: 100,
				description: 'Events beyond this wait for the next poll, in order',
			},
		],
	};

	methods = { credentialTest: { referralLedgerConnectionTest } };

	async poll(this: IPollFunctions): Promise<INodeExecutionData[][] | null> {
		const types = this.getNodeParameter('events', []) as string[];
		if (!Array.isArray(types) || types.length === 0) {
			throw new NodeOperationError(this.getNode(), 'Choose at least one event in "Events"');
		}
		const program = String(this.getNodeParameter('program', '') ?? '').trim() || undefined;
		const maxEvents = Math.min(
			10_000,
			Math.max(1, Math.floor(Number(this.getNodeParameter('maxEvents', 100)) || 100)),
		);
		const ledger = await ledgerFor(this);
		const toItems = (events: LedgerEvent[]) =>
			this.helpers.returnJsonArray(
				events.map((e) => ({
					id: e.id,
					type: e.type,
					program: e.programId,
					createdAt: new Date(e.createdAt).toISOString(),
					...e.payload,
				})),
			);

		if (this.getMode() === 'manual') {
			// "Fetch Test Event": show the latest matching events without moving the cursor.
			const top = await ledger.latestEventId();
			const page = await ledger.readEvents({
				afterId: Math.max(0, top - 10_000),
				types,
				programId: program,
				limit: 10_000,
			});
			const latest = page.events.slice(-Math.min(maxEvents, 5));
			if (latest.length === 0)
				throw new NodeOperationError(
					this.getNode(),
					'No matching event in the ledger yet; cause one (e.g. enrol a participant) and fetch again',
				);
			return [toItems(latest)];
		}

		const state = this.getWorkflowStaticData('node') as Cursor;
		if (typeof state.lastEventId !== 'number') {
			// First activation: start after what exists now, so history is not replayed.
			state.lastEventId = await ledger.latestEventId();
			return null;
		}
		const { events, cursor } = await ledger.readEvents({
			afterId: state.lastEventId,
			types,
			programId: program,
			limit: maxEvents,
		});
		// The ledger's cursor never passes an event still to commit, so nothing is skipped, and n8n
		// saves the static data with the execution, so after a restart the next poll resumes here.
		state.lastEventId = cursor;
		if (events.length === 0) return null;
		return [toItems(events)];
	}
}
