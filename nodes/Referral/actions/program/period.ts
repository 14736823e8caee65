import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import type { Period } from '../../../../engine/shared/periods';
import { parameterReader } from '../../../shared/parameters';
import { locatorText } from '../../../shared/program';

/** Period, As Of and Time Zone: the window Get Stats and Get Leaderboard count in. */
export const periodProperties: INodeProperties[] = [
	{
		displayName: 'Period',
		name: 'period',
		type: 'options',
		options: [
			{ name: 'Day', value: 'day' },
			{ name: 'Lifetime', value: 'lifetime' },
			{ name: 'Month', value: 'month' },
			{ name: 'Week', value: 'week' },
			{ name: 'Year', value: 'year' },
		],
		default: 'month',
		description:
			'Calendar period around "As Of" (the day, Monday-based week, month or year it falls in)',
	},
	{
		displayName: 'As Of',
		name: 'asOf',
		type: 'dateTime',
		default: '',
		description: 'A moment inside the wanted period; now when empty',
	},
	{
		displayName: 'Time Zone',
		name: 'timeZone',
		type: 'string',
		default: 'UTC',
		description: 'IANA time zone where days, weeks and months start',
	},
];

/** The period, moment and time zone (read once: they describe the one aggregate answer) and the program key. */
export function readPeriod(ctx: IExecuteFunctions): {
	programId: string;
	period: Period;
	at: number;
	timeZone: string;
} {
	const asOf = parameterReader<string>(ctx, 'asOf', '')(0);
	return {
		programId: locatorText(parameterReader<unknown>(ctx, 'program', 'default')(0)),
		period: parameterReader<Period>(ctx, 'period', 'month')(0),
		at: asOf ? new Date(asOf).getTime() : Date.now(),
		timeZone: parameterReader<string>(ctx, 'timeZone', 'UTC')(0) || 'UTC',
	};
}
