import { type ResourceMap, routerFor } from '../../shared/router';
import * as ledger from './ledger/Ledger.resource';
import * as participant from './participant/Participant.resource';
import * as program from './program/Program.resource';
import * as referral from './referral/Referral.resource';
import * as referralLink from './referralLink/ReferralLink.resource';

export const resources = { participant, referral, referralLink, program, ledger };

const operations = {
	participant: participant.operations,
	referral: referral.operations,
	referralLink: referralLink.operations,
	program: program.operations,
	ledger: ledger.operations,
} satisfies ResourceMap;

export const router = routerFor(operations);
