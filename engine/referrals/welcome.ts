/* The welcome a sign-up owes the person it enrols: an email with their code and share link, and a
 * text when they gave a phone number and agreed to marketing texts. Owed in the enrolment's ledger
 * transaction and only when that transaction creates the participant, so a replayed or repeated
 * sign-up owes nothing again and a crash after the enrolment loses nothing (Send Owed Messages, or
 * its overdue sweep, delivers them). The data holds no words of the caller except the greeting name
 * (empty when the name holds a link, digits or symbols); the text's data holds none at all. */
import type { CodeRecord, OweMessageInput, ParticipantRecord } from '../ledger/store';
import { normalizePhoneNumber } from '../messaging/sms';
import { greetingName } from '../shared/plainText';

/** The topic of the welcome messages a sign-up owes (both channels); Send Owed Messages delivers it. */
export const WELCOME_TOPIC = 'welcome';

/** The key of the welcome email owed to a participant: one per participant, ever. */
export function welcomeEmailKey(participantId: number): string {
	return `participant-${participantId}-welcome`;
}

/** The key of the welcome text owed to a participant: one per participant, ever. */
export function welcomeSmsKey(participantId: number): string {
	return `participant-${participantId}-welcome-sms`;
}

export interface WelcomeInput {
	participant: ParticipantRecord;
	code: CodeRecord | null;
	shareUrl: string | null;
	/** True only for an explicit yes to marketing texts. */
	smsConsent: boolean;
	/** The sign-up IP's keyed hash, for the SMS guard's per-IP limit at delivery. */
	ipHash?: string;
}

/** Why no welcome text is owed although a phone number came; null when one is (or none was asked for). */
export function welcomeSmsRecipient(
	phone: string | null,
	smsConsent: boolean,
): { to?: string; problem?: string } {
	if (!phone || !smsConsent) return {};
	try {
		return { to: normalizePhoneNumber(phone, { field: 'phone' }) };
	} catch (error) {
		return { problem: (error as Error).message };
	}
}

/** The messages owed to a participant a sign-up just created. */
export function welcomeMessages(input: WelcomeInput): OweMessageInput[] {
	const { participant: p } = input;
	const code = input.code?.code ?? null;
	const messages: OweMessageInput[] = [];
	if (p.email) {
		messages.push({
			key: welcomeEmailKey(p.id),
			channel: 'email',
			recipient: p.email,
			topic: WELCOME_TOPIC,
			participantId: p.id,
			data: {
				participant: {
					id: p.id,
					email: p.email,
					greetingName: greetingName(p.name),
					code,
					shareUrl: input.shareUrl,
				},
			},
		});
	}
	const sms = welcomeSmsRecipient(p.phone, input.smsConsent);
	if (sms.to) {
		messages.push({
			key: welcomeSmsKey(p.id),
			channel: 'sms',
			recipient: sms.to,
			topic: WELCOME_TOPIC,
			participantId: p.id,
			// No name, no words of the caller: only what the program made.
			data: {
				participant: { id: p.id, code, shareUrl: input.shareUrl },
				...(input.ipHash ? { guard: { ipHash: input.ipHash } } : {}),
			},
		});
	}
	return messages;
}

/** The keys of the welcome messages a participant may be owed (a replay hands them on, so one a stopped run left is delivered). */
export function welcomeMessageKeys(participantId: number): string[] {
	return [welcomeEmailKey(participantId), welcomeSmsKey(participantId)];
}
