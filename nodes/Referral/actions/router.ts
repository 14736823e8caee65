import { type ResourceMap, routerFor } from '../../shared/router';
import * as ledger from './ledger/Ledger.resource';
import * as participant from './participant/Participant.resource';
import * as program from './program/Program.resource';
import * as referral from './referral/Referral.resource';

export const resources = { participant, referral, program, ledger };

const operations = {
	participant: participant.operations,
	referral: referral.operations,
	program: program.operations,
	ledger: ledger.operations,
} satisfies ResourceMap;

export const router = routerFor(operations);
