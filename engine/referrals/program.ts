import { validateAttributionSettings, type AttributionSettings } from './attribution';
import {
	REFUND_POLICIES,
	validateQualificationSettings,
	type QualificationSettings,
	type RefundPolicy,
} from './conversion';
import { validateFraudPolicy, type FraudPolicy } from './fraud';
import { requireOneOf, requireRecord, requireText } from '../shared/guards';

/**
 * A referral program's settings as the Referral node's "Program: create or update" form gives
 * them, checked in one go at configuration time. (The code format is the code engine's and is
 * validated there.)
 */

export interface ReferralProgramSettings {
	programId: string;
	attribution: AttributionSettings;
	fraudPolicy: FraudPolicy;
	qualification: QualificationSettings;
	refundPolicy: RefundPolicy;
}

export function validateReferralProgram(input: unknown): ReferralProgramSettings {
	const raw = requireRecord(input, 'program');
	return {
		programId: requireText(raw.programId, 'programId', 256),
		attribution: validateAttributionSettings(raw.attribution),
		fraudPolicy: validateFraudPolicy(raw.fraudPolicy),
		qualification: validateQualificationSettings(raw.qualification),
		refundPolicy:
			raw.refundPolicy === undefined
				? 'any_refund'
				: requireOneOf(raw.refundPolicy, 'refundPolicy', REFUND_POLICIES),
	};
}
