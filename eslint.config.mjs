// Lint rules: n8n's community-node rules on everything n8n loads (nodes/, credentials/, package.json),
// the same base TypeScript rules everywhere, and the architecture rule that the engine never imports n8n.
// The one deliberate deviation from n8n's Cloud-verification set is `no-runtime-dependencies`: this
// package targets self-hosted n8n and ships pg, handlebars, nodemailer and libphonenumber-js (see README).
import eslint from '@eslint/js';
import n8nCommunity from '@n8n/eslint-plugin-community-nodes';
import n8nNodesBase from 'eslint-plugin-n8n-nodes-base';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const communityRecommended = n8nCommunity.configs.recommended;

export default tseslint.config(
	{ ignores: ['dist/**', 'node_modules/**', '.cache/**', 'coverage/**'] },
	{
		files: ['**/*.ts', '**/*.mts'],
		extends: [eslint.configs.recommended, tseslint.configs.recommended],
		rules: {
			'prefer-spread': 'off',
			'@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
		},
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
		rules: { ...n8nNodesBase.configs.credentials.rules, 'n8n-nodes-base/cred-class-field-documentation-url-miscased': 'off' },
	},
	{
		files: ['nodes/**/*.ts'],
		rules: {
			...n8nNodesBase.configs.nodes.rules,
			'n8n-nodes-base/node-class-description-inputs-wrong-regular-node': 'off',
			'n8n-nodes-base/node-class-description-outputs-wrong': 'off',
			'n8n-nodes-base/node-param-type-options-max-value-present': 'off',
		},
	},
	{
		// The engine is plain TypeScript: no n8n imports, no console output.
		files: ['engine/**/*.ts'],
		rules: {
			'no-console': 'error',
			'no-restricted-imports': [
				'error',
				{
					patterns: [
						{ group: ['n8n-workflow', 'n8n-workflow/*', 'n8n-core', 'n8n-core/*', '@n8n/*'], message: 'The engine never imports n8n; put n8n glue in nodes/.' },
						{ group: ['**/nodes/**', '**/credentials/**'], message: 'The engine must not depend on the n8n adapters.' },
					],
				},
			],
		},
	},
	{
		files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.{js,mjs}', 'gulpfile.js', '*.mts', '*.mjs'],
		languageOptions: { globals: { ...globals.node } },
		rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-require-imports': 'off' },
	},
	{
		files: ['scripts/**/*.{js,mjs}', 'gulpfile.js'],
		extends: [eslint.configs.recommended],
		languageOptions: { globals: { ...globals.node } },
	},
);
