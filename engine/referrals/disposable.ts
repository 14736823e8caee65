/**
 * Disposable (throw-away) email domains, bundled so the fraud check works offline.
 *
 * A short list of well-known services (Guerrilla Mail, Mailinator and its alias domains, YOPmail,
 * 10 Minute Mail, Temp-Mail, TrashMail, Fake Mail Generator, 1secmail, Nada, dropmail and
 * the like), not an exhaustive one: new throw-away domains appear daily, so a program can add its
 * own with `extraDomains` and exempt false positives with `allowDomains`. Forwarding services a
 * person keeps using (spamgourmet, sneakemail, Firefox Relay, SimpleLogin) are deliberately absent.
 * Matching includes subdomains: `x.mailinator.com` counts as mailinator.com.
 */

import { domainToASCII } from 'node:url';

import { emailDomain } from '../shared/email';

export const DISPOSABLE_DOMAINS: ReadonlySet<string> = new Set([
	'0-mail.com', '0box.eu', '10mail.org', '10minutemail.co.uk', '10minutemail.com',
	'10minutemail.de', '10minutemail.net', '1secmail.com', '1secmail.net', '1secmail.org',
	'20minutemail.com', '20minutemail.it', '30minutemail.com', 'abyssmail.com', 'anonbox.net',
	'any.pink', 'armyspy.com', 'binkmail.com', 'bobmail.info', 'boximail.com', 'burnermail.io',
	'byom.de', 'chammy.info', 'chitthi.in', 'clrmail.com', 'contactpunkt.de', 'cool.fr.nf',
	'courriel.fr.nf', 'cuvox.de', 'dayrep.com', 'deadaddress.com', 'despam.it', 'devnullmail.com',
	'discard.email', 'discardmail.com', 'discardmail.de', 'dispostable.com', 'dodgeit.com',
	'dodgit.com', 'dontreg.com', 'dpptd.com', 'dropjar.com', 'dropmail.me', 'dump-email.info',
	'dumpmail.de', 'einrot.com', 'email-fake.com', 'emailfake.com', 'emailondeck.com',
	'emailtemporanea.net', 'emlhub.com', 'emlpro.com', 'emltmp.com', 'ephemail.net', 'esiix.com',
	'ezztt.com', 'fakeinbox.com', 'fakemailgenerator.com', 'fexbox.org', 'fexbox.ru', 'fexpost.com',
	'fextemp.com', 'filzmail.com', 'fleckens.hu', 'generator.email', 'get2mail.fr', 'getairmail.com',
	'getnada.com', 'gishpuppy.com', 'givmail.com', 'grr.la', 'guerrillamail.biz', 'guerrillamail.com',
	'guerrillamail.de', 'guerrillamail.info', 'guerrillamail.net', 'guerrillamail.org',
	'guerrillamailblock.com', 'gustr.com', 'haltospam.com', 'harakirimail.com', 'hidemail.de',
	'icznn.com', 'ieatspam.eu', 'ieatspam.info', 'inboxbear.com', 'inboxkitten.com',
	'incognitomail.com', 'incognitomail.org', 'jetable.fr.nf', 'jetable.org', 'jourrapide.com',
	'kasmail.com', 'killmail.com', 'killmail.net', 'kurzepost.de', 'kzccv.com', 'laafd.com',
	'letthemeatspam.com', 'lhsdv.com', 'lookugly.com', 'mail-temporaire.fr', 'mail4trash.com',
	'mailbidon.com', 'mailbox.in.ua', 'mailcatch.com', 'maildrop.cc', 'mailexpire.com',
	'mailforspam.com', 'mailimate.com', 'mailin8r.com', 'mailinater.com', 'mailinator.com',
	'mailinator.net', 'mailinator2.com', 'mailismagic.com', 'mailmetrash.com', 'mailmoat.com',
	'mailnesia.com', 'mailnull.com', 'mailpoof.com', 'mailsac.com', 'mailscrap.com', 'mailtemp.info',
	'mailto.plus', 'mailtothis.com', 'mailtrash.net', 'mailzilla.com', 'mailzilla.org', 'mega.zik.dj',
	'meltmail.com', 'merepost.com', 'mierdamail.com', 'mintemail.com', 'moakt.com', 'mohmal.com',
	'moncourrier.fr.nf', 'monemail.fr.nf', 'monmail.fr.nf', 'monumentmail.com', 'mt2009.com',
	'mt2015.com', 'mycleaninbox.com', 'mytemp.email', 'mytempemail.com', 'mytrashmail.com',
	'nada.email', 'nepwk.com', 'nervmich.net', 'nervtmich.net', 'no-spam.ws', 'nobulk.com',
	'noclickemail.com', 'nogmailspam.info', 'nomail.xl.cx', 'nomail2me.com', 'nospam.ze.tc',
	'nospam4.us', 'nospamfor.us', 'notmailinator.com', 'nowmymail.com', 'nurfuerspam.de',
	'objectmail.com', 'oneoffemail.com', 'oopi.org', 'owlymail.com', 'pokemail.net', 'pookmail.com',
	'proxymail.eu', 'putthisinyourspamdatabase.com', 'qiott.com', 'quickinbox.com', 'rcpt.at',
	'reallymymail.com', 'regbypass.com', 'rhyta.com', 'rmqkr.net', 'robot-mail.com', 'rover.info',
	'rteet.com', 'safersignup.de', 'safetymail.info', 'saynotospams.com', 'selfdestructingmail.com',
	'sendspamhere.com', 'sharklasers.com', 'shieldedmail.com', 'shiftmail.com', 'skeefmail.com',
	'slaskpost.se', 'slopsbox.com', 'smellfear.com', 'sofort-mail.de', 'sogetthis.com',
	'soodonims.com', 'spam.la', 'spam.su', 'spam4.me', 'spamavert.com', 'spambob.com', 'spambob.net',
	'spambob.org', 'spambog.com', 'spambog.de', 'spambog.ru', 'spambox.us', 'spamcero.com',
	'spamcorptastic.com', 'spamcowboy.com', 'spamday.com', 'spamfree24.com', 'spamfree24.de',
	'spamfree24.eu', 'spamfree24.info', 'spamfree24.net', 'spamfree24.org', 'spamherelots.com',
	'spamhereplease.com', 'spamhole.com', 'spamify.com', 'spaminator.de', 'spamkill.info',
	'spaml.com', 'spaml.de', 'spammotel.com', 'spamobox.com', 'spamslicer.com', 'spamspot.com',
	'spamthis.co.uk', 'spamthisplease.com', 'spamtroll.net', 'speed.1s.fr', 'spymail.one',
	'streetwisemail.com', 'supergreatmail.com', 'superrito.com', 'suremail.info', 'tafmail.com',
	'teleworm.com', 'teleworm.us', 'temp-mail.io', 'temp-mail.org', 'temp-mail.ru', 'tempail.com',
	'tempemail.com', 'tempemail.net', 'tempinbox.co.uk', 'tempinbox.com', 'tempmail.dev',
	'tempmail.net', 'tempmail.plus', 'tempmailaddress.com', 'tempmailo.com', 'tempomail.fr',
	'temporaryforwarding.com', 'temporaryinbox.com', 'tempr.email', 'thankyou2010.com',
	'thisisnotmyrealemail.com', 'throwam.com', 'throwawayemailaddress.com', 'throwawaymail.com',
	'tilien.com', 'tmail.ws', 'tmailinator.com', 'tmpmail.net', 'tmpmail.org', 'tradermail.info',
	'trash-mail.at', 'trash-mail.com', 'trash-mail.de', 'trash2009.com', 'trashdevil.com',
	'trashemail.de', 'trashmail.at', 'trashmail.com', 'trashmail.de', 'trashmail.io', 'trashmail.me',
	'trashmail.net', 'trashmail.ws', 'trashmailer.com', 'trashymail.com', 'trashymail.net',
	'trialmail.de', 'twinmail.de', 'txcct.com', 'tyldd.com', 'uroid.com', 'veryrealemail.com',
	'vjuum.com', 'vomoto.com', 'webm4il.info', 'wegwerfadresse.de', 'wegwerfemail.de',
	'wegwerfmail.de', 'wegwerfmail.net', 'wegwerfmail.org', 'wh4f.org', 'whyspam.me',
	'willselfdestruct.com', 'wuuvo.com', 'wuzupmail.net', 'wwjmp.com', 'xagloo.com', 'xemaps.com',
	'xents.com', 'xmaily.com', 'xojxe.com', 'yep.it', 'yoggm.com', 'yomail.info', 'yopmail.com',
	'yopmail.fr', 'yopmail.net', 'yuurok.com', 'zehnminutenmail.de', 'zetmail.com', 'zippymail.info',
	'zoaxe.com', 'zoemail.org',
]);

export interface DisposableOptions {
	/** More domains to treat as disposable (matched with their subdomains too). */
	extraDomains?: readonly string[];
	/** Domains never treated as disposable, even when listed (matched with their subdomains too). */
	allowDomains?: readonly string[];
}

/** Lower-case, without a leading @ or trailing dot, internationalised names in their ASCII form (as emails store them). */
function cleanDomain(domain: string): string {
	const plain = domain.trim().toLowerCase().replace(/^@/, '').replace(/\.$/, '');
	return /^[\x20-\x7e]*$/.test(plain) ? plain : domainToASCII(plain) || plain;
}

function matches(domain: string, list: ReadonlySet<string>): string | null {
	const labels = domain.split('.');
	// Walk up from the full domain to its registrable parent: a.b.mailinator.com, b.mailinator.com, mailinator.com.
	for (let i = 0; i < labels.length - 1; i++) {
		const candidate = labels.slice(i).join('.');
		if (list.has(candidate)) return candidate;
	}
	return null;
}

/** The listed domain that `domain` belongs to, or null. */
export function disposableDomainOf(domain: string, options: DisposableOptions = {}): string | null {
	const d = cleanDomain(domain);
	if (d === '') return null;
	if (options.allowDomains?.length && matches(d, new Set(options.allowDomains.map(cleanDomain)))) return null;
	const listed = matches(d, DISPOSABLE_DOMAINS);
	if (listed) return listed;
	if (options.extraDomains?.length) return matches(d, new Set(options.extraDomains.map(cleanDomain)));
	return null;
}

export function isDisposableDomain(domain: string, options: DisposableOptions = {}): boolean {
	return disposableDomainOf(domain, options) !== null;
}

export function isDisposableEmail(email: string, options: DisposableOptions = {}): boolean {
	const domain = emailDomain(email);
	return domain !== '' && isDisposableDomain(domain, options);
}
