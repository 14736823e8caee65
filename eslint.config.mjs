// Lint rules: n8n's community-node rules on everything n8n loads (nodes/, credentials/, package.json),
// the same base TypeScript rules everywhere, and the architecture rules: the engine never imports n8n,
// engine/referrals and engine/rewards never import each other, engine/shared imports no domain.
// The one deliberate deviation from n8n's Cloud-verification set is `no-runtime-dependencies`: this
// package targets self-hosted n8n and ships pg, handlebars, nodemailer and libphonenumber-js (see README).
import eslint from '@eslint/js';
import n8nCommunity from '@n8n/eslint-plugin-community-nodes';
import n8nNodesBase from 'eslint-plugin-n8n-nodes-base';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const communityRecommended = n8nCommunity.configs.recommended;

/** Imports the engine never makes (n8n and its adapters), repeated by the per-folder blocks below. */
const ENGINE_IMPORTS = [
	{
		group: ['n8n-workflow', 'n8n-workflow/*', 'n8n-core', 'n8n-core/*', '@n8n/*'],
		message: 'The engine never imports n8n; put n8n glue in nodes/.',
	},
	{
		group: ['**/nodes/**', '**/credentials/**'],
		message: 'The engine must not depend on the n8n adapters.',
	},
];

export default tseslint.config(
	{ ignores: ['dist/**', 'node_modules/**', '.cache/**', 'coverage/**'] },
	{
		files: ['**/*.ts', '**/*.mts'],
		extends: [eslint.configs.recommended, tseslint.configs.recommended],
		rules: {
			'prefer-spread': 'off',
			'@typescript-eslint/no-unused-vars': [
				'error',
				{ argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
			],
		},
	},
	{
		// Type-aware checks on all TypeScript: a promise is awaited or handled, and a switch over a
		// union names every member (or has a default).
		files: [
			'engine/**/*.ts',
			'nodes/**/*.ts',
			'credentials/**/*.ts',
			'test/**/*.ts',
			'bench/**/*.ts',
		],
		languageOptions: {
			parserOptions: { project: './tsconfig.test.json', tsconfigRootDir: import.meta.dirname },
		},
		rules: {
			'@typescript-eslint/no-floating-promises': 'error',
			'@typescript-eslint/switch-exhaustiveness-check': [
				'error',
				{ considerDefaultExhaustiveForUnions: true },
			],
		},
	},
	{
		// The engine and the nodes: no assertion restates a type the compiler already knows. (Tests
		// and credentials cast values typed `any` by untyped scripts and n8n-workflow's loose types.)
		files: ['engine/**/*.ts', 'nodes/**/*.ts'],
		rules: { '@typescript-eslint/no-unnecessary-type-assertion': 'error' },
	},
	{
		// What n8n loads: the full community-node rule set.
		files: ['nodes/**/*.ts', 'credentials/**/*.ts', 'package.json'],
		plugins: { ...communityRecommended.plugins, 'n8n-nodes-base': n8nNodesBase },
		rules: { ...communityRecommended.rules, 'no-console': 'error' },
	},
	{
		files: ['package.json'],
		languageOptions: { parser: tseslint.parser, parserOptions: { extraFileExtensions: ['.json'] } },
		rules: {
			...n8nNodesBase.configs.community.rules,
			// Deliberate: self-hosted n8n only; runtime dependencies are needed (see README).
			'@n8n/community-nodes/no-runtime-dependencies': 'off',
		},
	},
	{
		files: ['credentials/**/*.ts'],
		rules: {
			...n8nNodesBase.configs.credentials.rules,
			'n8n-nodes-base/cred-class-field-documentation-url-miscased': 'off',
		},
	},
	{
		files: ['nodes/**/*.ts'],
		rules: {
			...n8nNodesBase.configs.nodes.rules,
			'n8n-nodes-base/node-class-description-inputs-wrong-regular-node': 'off',
			'n8n-nodes-base/node-class-description-outputs-wrong': 'off',
			'n8n-nodes-base/node-param-type-options-max-value-present': 'off',
			// Its sentence-case check (sentence-case 3) drops apostrophes, commas and parentheses, and its
			// autofix wrote "Get a participant s points". Actions are the AI Agent's tool descriptions
			// ("<action> in <node>", issue #19), so they keep their punctuation; test/unit/nodes/toolUse.test.ts
			// checks they are sentences.
			'n8n-nodes-base/node-param-operation-option-action-miscased': 'off',
		},
	},
	{
		// The engine is plain TypeScript: no n8n imports, no console output.
		files: ['engine/**/*.ts'],
		rules: {
			'no-console': 'error',
			'no-restricted-imports': ['error', { patterns: ENGINE_IMPORTS }],
		},
	},
	{
		// Referrals and rewards never import each other: what both need lives in engine/shared, and a use
		// case that changes both (refunds) lives above them in engine/refunds. A later block replaces the
		// rule's options, so each repeats the engine-wide patterns.
		files: ['engine/referrals/**/*.ts'],
		rules: {
			'no-restricted-imports': [
				'error',
				{
					patterns: [
						...ENGINE_IMPORTS,
						{
							group: ['**/rewards', '**/rewards/**'],
							message:
								'engine/referrals must not import engine/rewards: move what both need to engine/shared, or the use case above both (e.g. engine/refunds).',
						},
					],
				},
			],
		},
	},
	{
		files: ['engine/rewards/**/*.ts'],
		rules: {
			'no-restricted-imports': [
				'error',
				{
					patterns: [
						...ENGINE_IMPORTS,
						{
							group: ['**/referrals', '**/referrals/**'],
							message:
								'engine/rewards must not import engine/referrals: move what both need to engine/shared, or the use case above both (e.g. engine/refunds).',
						},
					],
				},
			],
		},
	},
	{
		// Shared concepts belong to no domain: engine/shared imports only itself.
		files: ['engine/shared/**/*.ts'],
		rules: {
			'no-restricted-imports': [
				'error',
				{
					patterns: [
						...ENGINE_IMPORTS,
						{
							group: ['../*', '!../shared', '!../shared/**'],
							message: 'engine/shared must not import a domain: it is what the domains share.',
						},
					],
				},
			],
		},
	},
	{
		files: [
			'test/**/*.ts',
			'bench/**/*.ts',
			'scripts/**/*.{js,mjs}',
			'gulpfile.js',
			'*.mts',
			'*.mjs',
		],
		languageOptions: { globals: { ...globals.node } },
		rules: {
			'@typescript-eslint/no-explicit-any': 'off',
			'@typescript-eslint/no-require-imports': 'off',
		},
	},
	{
		files: ['scripts/**/*.{js,mjs}', 'gulpfile.js'],
		extends: [eslint.configs.recommended],
		languageOptions: { globals: { ...globals.node } },
	},
);
