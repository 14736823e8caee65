import type {
	ICredentialDataDecryptedObject,
	ICredentialsDecrypted,
	ICredentialTestFunctions,
	IExecuteFunctions,
	ILoadOptionsFunctions,
	INodeCredentialTestResult,
	INodeProperties,
	IPollFunctions,
} from 'n8n-workflow';
import { n8nDataFolder } from '../../engine/shared/environment';
import {
	defaultSqlitePath,
	type LedgerConfig,
	type LedgerStore,
	openLedger,
	testConnection,
} from '../../engine/ledger';

export const LEDGER_CREDENTIAL = 'referralLedgerApi';

export const ledgerNotice: INodeProperties = {
	displayName:
		'Without a Referral Ledger credential, data is kept in referral-ledger.sqlite in the n8n data folder. In queue mode with several workers, add a credential that points at PostgreSQL.',
	name: 'ledgerNotice',
	type: 'notice',
	default: '',
};

/** Turns the credential's form into the engine's ledger configuration. */
export function ledgerConfigFromCredential(
	data: ICredentialDataDecryptedObject | undefined,
): LedgerConfig {
	if (!data || (data.backend ?? 'sqlite') === 'sqlite') {
		const file =
			typeof data?.path === 'string' && data.path.trim() !== ''
				? data.path.trim()
				: defaultSqlitePath(n8nDataFolder());
		return { backend: 'sqlite', path: file };
	}
	const ssl =
		data.ssl === 'require'
			? true
			: data.ssl === 'allowUnauthorized'
				? { rejectUnauthorized: false }
				: false;
	const schema =
		typeof data.schema === 'string' && data.schema.trim() !== '' ? data.schema.trim() : undefined;
	if (data.connection === 'url') {
		return {
			backend: 'postgres',
			connectionString: String(data.connectionStringSecret ?? ''),
			ssl,
			schema,
		};
	}
	return {
		backend: 'postgres',
		host: String(data.host ?? 'localhost'),
		port: Number(data.port ?? 5432),
		database: String(data.database ?? 'postgres'),
		user: String(data.user ?? 'postgres'),
		password: String(data.password ?? ''),
		ssl,
		schema,
	};
}

/** The ledger for this node: its credential if one is selected, else the default SQLite file. */
export async function ledgerFor(
	ctx: IExecuteFunctions | IPollFunctions | ILoadOptionsFunctions,
): Promise<LedgerStore> {
	const selected = ctx.getNode().credentials?.[LEDGER_CREDENTIAL];
	const data = selected ? await ctx.getCredentials(LEDGER_CREDENTIAL) : undefined;
	return await openLedger(ledgerConfigFromCredential(data));
}

/** The credential test behind the "Test" button: really connects and applies the schema. */
export async function referralLedgerConnectionTest(
	this: ICredentialTestFunctions,
	credential: ICredentialsDecrypted,
): Promise<INodeCredentialTestResult> {
	const result = await testConnection(ledgerConfigFromCredential(credential.data));
	return { status: result.ok ? 'OK' : 'Error', message: result.message };
}
