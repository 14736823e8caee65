export * from './data';
export * from './csrf';
export * from './html';
export * from './review';
export { CSP, escapeHtml, pageHeaders, shell } from './shell';
