/* Credentials for harness runs: plain objects by credential type, and the generic authentication
 * n8n applies from a credential type's `authenticate` block (headers, query, body, basic auth). */
import type {
	ICredentialDataDecryptedObject,
	ICredentials,
	ICredentialType,
	IDataObject,
	IHttpRequestHelper,
	IHttpRequestOptions,
	INode,
	INodeCredentialsDetails,
	INodeProperties,
	IRequestOptionsSimplified,
	IWorkflowExecuteAdditionalData,
	Workflow,
} from 'n8n-workflow';
import { ICredentialsHelper } from 'n8n-workflow';

export type CredentialData = Record<string, ICredentialDataDecryptedObject>;

/** Resolves `={{$credentials.apiKey}}` and `=Bearer {{$credentials.token}}` against the data. */
function resolve(template: unknown, credentials: ICredentialDataDecryptedObject): unknown {
	if (typeof template !== 'string' || !template.startsWith('=')) return template;
	const body = template.slice(1);
	const whole = /^\{\{\s*\$credentials\.([\w.]+)\s*\}\}$/.exec(body);
	if (whole) return credentials[whole[1]];
	return body.replace(/\{\{\s*\$credentials\.([\w.]+)\s*\}\}/g, (_m, key: string) =>
		String(credentials[key] ?? ''),
	);
}

function resolveAll(
	block: Record<string, unknown> | undefined,
	credentials: ICredentialDataDecryptedObject,
): Record<string, unknown> {
	const out: Record<string, unknown> = {};
	for (const [key, value] of Object.entries(block ?? {})) out[key] = resolve(value, credentials);
	return out;
}

export class HarnessCredentialsHelper extends ICredentialsHelper {
	constructor(
		private readonly data: CredentialData,
		private readonly types: Record<string, ICredentialType>,
	) {
		super();
	}

	getParentTypes(name: string): string[] {
		return this.types[name]?.extends ?? [];
	}

	isCredentialUsableByNode(): boolean {
		return true;
	}

	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		typeName: string,
		requestOptions: IHttpRequestOptions | IRequestOptionsSimplified,
	): Promise<IHttpRequestOptions> {
		const options = requestOptions as IHttpRequestOptions;
		const auth = this.types[typeName]?.authenticate;
		if (!auth) return options;
		if (typeof auth === 'function') return await auth(credentials, options);
		const properties = auth.properties as Record<string, Record<string, unknown> | undefined>;
		options.headers = {
			...(options.headers ?? {}),
			...(resolveAll(properties.headers, credentials) as IDataObject),
		};
		options.qs = {
			...(options.qs ?? {}),
			...(resolveAll(properties.qs, credentials) as IDataObject),
		};
		if (properties.body)
			options.body = {
				...((options.body as object) ?? {}),
				...resolveAll(properties.body, credentials),
			};
		if (properties.auth)
			options.auth = resolveAll(
				properties.auth,
				credentials,
			) as unknown as IHttpRequestOptions['auth'];
		return options;
	}

	async preAuthentication(
		_helpers: IHttpRequestHelper,
		_credentials: ICredentialDataDecryptedObject,
		_typeName: string,
		_node: INode,
		_expired: boolean,
	): Promise<ICredentialDataDecryptedObject | undefined> {
		return undefined;
	}

	async runPreAuthentication(): Promise<ICredentialDataDecryptedObject | undefined> {
		return undefined;
	}

	async getCredentials(_details: INodeCredentialsDetails, type: string): Promise<ICredentials> {
		throw new Error(
			`The harness hands out decrypted credentials only (asked for encrypted "${type}")`,
		);
	}

	async getDecrypted(
		_additionalData: IWorkflowExecuteAdditionalData,
		_details: INodeCredentialsDetails,
		type: string,
	): Promise<ICredentialDataDecryptedObject> {
		const data = this.data[type];
		if (!data) throw new Error(`No credentials of type "${type}" were given to the harness run`);
		return data;
	}

	async updateCredentials(): Promise<void> {}

	async updateCredentialsOauthTokenData(): Promise<void> {}

	getCredentialsProperties(type: string): INodeProperties[] {
		return this.types[type]?.properties ?? [];
	}
}

export type { Workflow };
