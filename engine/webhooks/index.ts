/* Signed webhooks: verify a provider's (or our own) signature over the raw body, accept each
 * signed delivery once, and read providers' order events as conversions and refunds. */
export * from './signatures';
export * from './replay';
export * from './normalize';
export * from './body';
