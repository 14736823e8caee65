/* The messaging engine's public surface, for the Templated Message node and the lead's wiring. */
export * from './types';
export { helpers, helperNames, type RenderFrame } from './helpers';
export {
	TemplateRenderer,
	assertSafeData,
	clearTemplateCache,
	templateCacheSize,
	templateLimits,
	sha256,
	type RenderSettings,
	type TemplateData,
	type OutputFormat,
} from './templates';
export { htmlToText, decodeEntities } from './htmlToText';
export * from './sms';
export * from './quietHours';
export * from './email';
export * from './reliability';
export * from './render';
export * from './send';
export * from './smsGuard';
export * from './providers';
export {
	buildSendGridRequest,
	readSendGridResponse,
	sendSendGrid,
	SENDGRID_BASE_URL,
} from './providers/sendgrid';
export {
	buildMailgunRequest,
	readMailgunResponse,
	sendMailgun,
	MAILGUN_BASE_URL,
} from './providers/mailgun';
export {
	buildPostmarkRequest,
	readPostmarkResponse,
	sendPostmark,
	POSTMARK_BASE_URL,
} from './providers/postmark';
export {
	buildResendRequest,
	readResendResponse,
	sendResend,
	RESEND_BASE_URL,
} from './providers/resend';
export {
	buildTwilioRequest,
	readTwilioResponse,
	sendTwilio,
	TWILIO_BASE_URL,
} from './providers/twilio';
export {
	buildVonageRequest,
	readVonageResponse,
	sendVonage,
	VONAGE_BASE_URL,
} from './providers/vonage';
export { buildPlivoRequest, readPlivoResponse, sendPlivo, PLIVO_BASE_URL } from './providers/plivo';
export {
	buildTelnyxRequest,
	readTelnyxResponse,
	sendTelnyx,
	TELNYX_BASE_URL,
} from './providers/telnyx';
export {
	createSmtpSender,
	classifySmtpError,
	smtpMessageId,
	verifySmtpConnection,
	type SmtpOptions,
} from './providers/smtp';
export { messageLedgerFrom, type MessageLedgerStore } from './ledgerAdapter';
export {
	deliverOwedMessages,
	otherResult,
	type BuiltMessage,
	type DeliverOwedInput,
	type DeliverOwedResult,
	type OwedDelivery,
	type OwedMessageStore,
} from './owed';
export { unsubscribeWithLink, type LinkUnsubscribeResult } from './unsubscribeLinks';
