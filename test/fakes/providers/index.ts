export * from './types';
export { startSendGridFake } from './sendgrid';
export { startMailgunFake } from './mailgun';
export { startPostmarkFake } from './postmark';
export { startResendFake, resendQuotaExceeded } from './resend';
export { startTwilioFake } from './twilio';
export { startVonageFake } from './vonage';
export { startPlivoFake } from './plivo';
export { startTelnyxFake } from './telnyx';
