#!/usr/bin/env node
// The docs check (run by `npm test` through test/unit/docs.test.ts, or alone: `node scripts/check-docs.mjs`):
// every relative link and anchor in the Markdown files resolves, the README stays short, every node
// has its page in docs/nodes/ that its codex documentation link points at, every credential's
// documentation link points at a page that exists, every sample workflow is documented, and the
// performance tables (docs/performance.md, the README's) are what docs/performance.json renders to.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderPerformance, withReadmeTable } from './bench-table.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const README_LIMIT_BYTES = 12 * 1024;

const SKIP_DIRS = new Set(['node_modules', '.cache', 'dist', '.git', 'test-results', '.n8n-dev']);

/** Markdown files of the repository that people read (not dependencies or caches). */
export function markdownFiles(root = ROOT) {
	const out = [];
	const walk = (dir) => {
		for (const entry of readdirSync(dir, { withFileTypes: true })) {
			if (entry.isDirectory()) {
				if (!SKIP_DIRS.has(entry.name)) walk(path.join(dir, entry.name));
			} else if (entry.name.endsWith('.md')) {
				out.push(path.join(dir, entry.name));
			}
		}
	};
	walk(root);
	return out.sort();
}

/** The text of a Markdown file with fenced code blocks blanked (line numbers kept). */
function withoutCode(text) {
	const lines = text.split('\n');
	let fence = null;
	return lines
		.map((line) => {
			const m = /^\s*(`{3,}|~{3,})/.exec(line);
			if (fence) {
				if (m && m[1][0] === fence[0] && m[1].length >= fence.length) fence = null;
				return '';
			}
			if (m) {
				fence = m[1];
				return '';
			}
			return line;
		})
		.join('\n');
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens, duplicates numbered. */
export function slugify(heading) {
	const text = heading
		.replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
		.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
		.replace(/<[^>]+>/g, '')
		.replace(/[*`]/g, '')
		.replace(/(^|\s)_+|_+(\s|$)/g, '$1$2')
		.trim()
		.toLowerCase();
	return text.replace(/[^\p{L}\p{N}\p{M}\p{Pc}\- ]/gu, '').replace(/ /g, '-');
}

/** Every anchor a Markdown file offers: its headings (GitHub-style) and explicit `<a id|name>`. */
export function anchorsOf(text) {
	const anchors = new Set();
	const seen = new Map();
	for (const line of withoutCode(text).split('\n')) {
		const m = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
		if (m) {
			const base = slugify(m[1]);
			const n = seen.get(base) ?? 0;
			seen.set(base, n + 1);
			anchors.add(n === 0 ? base : `${base}-${n}`);
		}
		for (const a of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(a[1]);
	}
	return anchors;
}

/** Links and images of a Markdown text: `{target, line}` (inline code and fenced code left out). */
export function linksOf(text) {
	const links = [];
	withoutCode(text)
		.split('\n')
		.forEach((raw, i) => {
			const line = raw.replace(/`[^`]*`/g, (m) => ' '.repeat(m.length));
			for (const m of line.matchAll(
				/!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g,
			)) {
				links.push({ target: m[1], line: i + 1 });
			}
			for (const m of line.matchAll(/<(?:a|img)\s[^>]*(?:href|src)="([^"]+)"/g))
				links.push({ target: m[1], line: i + 1 });
		});
	return links;
}

/**
 * Checks the relative links and anchors of the given Markdown files; returns problems as
 * `file:line: message`.
 */
export function checkLinks(files, root = ROOT) {
	const problems = [];
	const anchorCache = new Map();
	const anchorsFor = (file) => {
		if (!anchorCache.has(file)) anchorCache.set(file, anchorsOf(readFileSync(file, 'utf8')));
		return anchorCache.get(file);
	};
	for (const file of files) {
		const rel = path.relative(root, file);
		for (const { target, line } of linksOf(readFileSync(file, 'utf8'))) {
			if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
			const [pathPart, anchor] = target.split('#', 2);
			const decoded = decodeURIComponent(pathPart.split('?')[0]);
			const dest = decoded === '' ? file : path.resolve(path.dirname(file), decoded);
			if (!dest.startsWith(root)) {
				problems.push(`${rel}:${line}: link "${target}" leaves the repository`);
				continue;
			}
			if (!existsSync(dest)) {
				problems.push(
					`${rel}:${line}: link "${target}": ${path.relative(root, dest)} does not exist`,
				);
				continue;
			}
			if (anchor !== undefined && anchor !== '') {
				if (statSync(dest).isDirectory() || !dest.endsWith('.md')) {
					problems.push(
						`${rel}:${line}: link "${target}" has an anchor into a file that is not Markdown`,
					);
				} else if (!anchorsFor(dest).has(anchor)) {
					problems.push(
						`${rel}:${line}: link "${target}": no heading or anchor "#${anchor}" in ${path.relative(root, dest)}`,
					);
				}
			}
		}
	}
	return problems;
}

/** "ReferralCode" → "referral-code": the page name of a node in docs/nodes/. */
export function pageName(nodeClass) {
	return nodeClass.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

/** The documentation address of a file of this repository, as n8n's editor links to it. */
export function docsUrl(pkg, file) {
	return `${pkg.homepage.replace(/\/$/, '')}/blob/main/${file}`;
}

/** Every node of package.json has docs/nodes/<node>.md, and its codex links there (no anchor). */
export function checkNodePages(root = ROOT) {
	const problems = [];
	const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
	for (const dist of pkg.n8n.nodes) {
		const nodeClass = path.basename(dist).replace(/\.node\.js$/, '');
		const page = `docs/nodes/${pageName(nodeClass)}.md`;
		const pageFile = path.join(root, page);
		if (!existsSync(pageFile)) {
			problems.push(`node ${nodeClass} has no page ${page}`);
		} else {
			const headings = [...anchorsOf(readFileSync(pageFile, 'utf8'))].join(' ');
			if (!/error/.test(headings)) problems.push(`${page} has no section on errors`);
			if (!/example|output/.test(headings))
				problems.push(`${page} has no section with examples or outputs`);
		}
		const codexFile = path.join(
			root,
			path.dirname(dist).replace(/^dist\//, ''),
			`${nodeClass}.node.json`,
		);
		if (!existsSync(codexFile)) {
			problems.push(`node ${nodeClass} has no codex file ${path.relative(root, codexFile)}`);
			continue;
		}
		const codex = JSON.parse(readFileSync(codexFile, 'utf8'));
		const urls = (codex.resources?.primaryDocumentation ?? []).map((d) => d.url);
		const expected = docsUrl(pkg, page);
		if (urls.length !== 1 || urls[0] !== expected) {
			problems.push(
				`${path.relative(root, codexFile)}: primaryDocumentation must be ${expected} (n8n appends ?utm_source=…, which breaks #anchors), got ${urls.join(', ') || 'none'}`,
			);
		}
	}
	return problems;
}

/** Every credential's documentationUrl points at a file of docs/ that exists, without an anchor. */
export function checkCredentialLinks(root = ROOT) {
	const problems = [];
	const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
	const prefix = docsUrl(pkg, '');
	for (const dist of pkg.n8n.credentials) {
		const source = path.join(root, dist.replace(/^dist\//, '').replace(/\.js$/, '.ts'));
		const rel = path.relative(root, source);
		const m = /documentationUrl\s*=\s*'([^']+)'/.exec(readFileSync(source, 'utf8'));
		if (!m) {
			problems.push(`${rel} has no documentationUrl`);
			continue;
		}
		const url = m[1];
		if (url.includes('#'))
			problems.push(
				`${rel}: documentationUrl ${url} has an anchor (n8n appends ?utm_source=…, which breaks it)`,
			);
		if (!url.startsWith(prefix))
			problems.push(`${rel}: documentationUrl ${url} is not a page of ${prefix}`);
		else if (!existsSync(path.join(root, url.slice(prefix.length).split('#')[0])))
			problems.push(`${rel}: documentationUrl ${url} names a file that does not exist`);
	}
	return problems;
}

/** Every workflow in workflows/ has its section in docs/workflows.md and is listed in workflows/README.md. */
export function checkWorkflowDocs(root = ROOT) {
	const problems = [];
	const files = readdirSync(path.join(root, 'workflows')).filter((f) => f.endsWith('.json'));
	const docs = path.join(root, 'docs', 'workflows.md');
	const anchors = existsSync(docs) ? anchorsOf(readFileSync(docs, 'utf8')) : new Set();
	const readme = path.join(root, 'workflows', 'README.md');
	const listed = existsSync(readme) ? readFileSync(readme, 'utf8') : null;
	for (const file of files) {
		if (!anchors.has(slugify(`\`${file}\``)))
			problems.push(`workflows/${file} has no section "### \`${file}\`" in docs/workflows.md`);
		if (listed !== null && !listed.includes(file))
			problems.push(`workflows/${file} is not listed in workflows/README.md`);
	}
	return problems;
}

export function checkReadmeSize(root = ROOT) {
	const size = statSync(path.join(root, 'README.md')).size;
	return size > README_LIMIT_BYTES
		? [
				`README.md is ${size} bytes; keep it at most ${README_LIMIT_BYTES} (the reference belongs in docs/)`,
			]
		: [];
}

/** docs/performance.md and the README's performance table are what docs/performance.json renders to. */
export function checkPerformanceTables(root = ROOT) {
	const json = path.join(root, 'docs', 'performance.json');
	if (!existsSync(json)) return ['docs/performance.json is missing (npm run bench writes it)'];
	const doc = JSON.parse(readFileSync(json, 'utf8'));
	const problems = [];
	const md = path.join(root, 'docs', 'performance.md');
	if (!existsSync(md) || readFileSync(md, 'utf8') !== renderPerformance(doc))
		problems.push(
			'docs/performance.md is not what docs/performance.json renders to: run `npm run bench -- --render`',
		);
	const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
	let expected;
	try {
		expected = withReadmeTable(readme, doc);
	} catch (error) {
		return [...problems, error.message];
	}
	if (readme !== expected)
		problems.push(
			"README.md's performance table is not what docs/performance.json renders to: run `npm run bench -- --render`",
		);
	return problems;
}

export function checkDocs(root = ROOT) {
	return [
		...checkReadmeSize(root),
		...checkPerformanceTables(root),
		...checkLinks(markdownFiles(root), root),
		...checkNodePages(root),
		...checkCredentialLinks(root),
		...checkWorkflowDocs(root),
	];
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	const problems = checkDocs();
	for (const p of problems) process.stderr.write(`${p}\n`);
	process.stderr.write(
		problems.length === 0
			? 'docs: every link, anchor, node page and workflow section is in place\n'
			: `docs: ${problems.length} problem(s)\n`,
	);
	process.exit(problems.length === 0 ? 0 : 1);
}
