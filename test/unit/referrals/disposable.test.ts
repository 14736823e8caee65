import { describe, expect, it } from 'vitest';

import {
	DISPOSABLE_DOMAINS,
	disposableDomainOf,
	isDisposableDomain,
	isDisposableEmail,
} from '../../../engine/referrals/disposable';

describe('disposable email domains', () => {
	it('bundles a few hundred well-formed, lower-case domains', () => {
		expect(DISPOSABLE_DOMAINS.size).toBeGreaterThanOrEqual(250);
		for (const d of DISPOSABLE_DOMAINS) expect(d).toMatch(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/);
	});

	it('contains none of the big real providers nor forwarding services people keep', () => {
		for (const real of [
			'gmail.com',
			'googlemail.com',
			'outlook.com',
			'hotmail.com',
			'yahoo.com',
			'icloud.com',
			'proton.me',
			'protonmail.com',
			'gmx.de',
			'gmx.com',
			'web.de',
			'aol.com',
			'mail.ru',
			'yandex.ru',
			'qq.com',
			'163.com',
			'fastmail.com',
			'zoho.com',
			'spamgourmet.com',
			'sneakemail.com',
			'mozmail.com',
			'simplelogin.com',
		]) {
			expect(isDisposableDomain(real), real).toBe(false);
		}
	});

	it.each([
		'mailinator.com',
		'guerrillamail.com',
		'yopmail.com',
		'10minutemail.com',
		'sharklasers.com',
		'temp-mail.org',
	])('knows %s', (domain) => {
		expect(isDisposableDomain(domain)).toBe(true);
	});

	it('matches subdomains but not look-alikes', () => {
		expect(disposableDomainOf('inbox.mailinator.com')).toBe('mailinator.com');
		expect(disposableDomainOf('a.b.yopmail.com')).toBe('yopmail.com');
		expect(isDisposableDomain('mailinator.com.example.org')).toBe(false);
		expect(isDisposableDomain('mymailinator.com')).toBe(false);
		expect(isDisposableDomain('com')).toBe(false);
		expect(isDisposableDomain('')).toBe(false);
	});

	it('checks emails case-insensitively', () => {
		expect(isDisposableEmail('Someone@MAILINATOR.com')).toBe(true);
		expect(isDisposableEmail('someone@example.com')).toBe(false);
		expect(isDisposableEmail('not an email')).toBe(false);
	});

	it('takes extra domains and an allow list', () => {
		expect(isDisposableDomain('throwaway.example', { extraDomains: ['throwaway.example'] })).toBe(
			true,
		);
		expect(isDisposableDomain('x.throwaway.example', { extraDomains: ['Throwaway.Example'] })).toBe(
			true,
		);
		expect(isDisposableDomain('mailinator.com', { allowDomains: ['mailinator.com'] })).toBe(false);
		expect(isDisposableDomain('sub.mailinator.com', { allowDomains: ['mailinator.com'] })).toBe(
			false,
		);
	});
});
