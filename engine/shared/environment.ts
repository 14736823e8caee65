import os from 'node:os';
import path from 'node:path';

/**
 * n8n's data folder (`~/.n8n`, or `$N8N_USER_FOLDER/.n8n`), resolved the way n8n resolves it.
 * The zero-config SQLite ledger lives here, next to n8n's own database.
 */
export function n8nDataFolder(env: NodeJS.ProcessEnv = process.env): string {
	const userFolder =
		env.N8N_USER_FOLDER && env.N8N_USER_FOLDER.trim() !== '' ? env.N8N_USER_FOLDER : os.homedir();
	return path.join(userFolder, '.n8n');
}
