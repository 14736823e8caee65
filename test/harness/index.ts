/**
 * In-process workflow harness: runs workflow JSON through n8n-core's real execution engine
 * (WorkflowExecute, expressions evaluated) with this package's compiled nodes loaded the way n8n
 * loads a community package, so a test asserts on what each node really outputs.
 * Written for this package (MIT); n8n's own NodeTestHarness is not used.
 */
import 'reflect-metadata';
import path from 'node:path';
import { ExecutionLifecycleHooks, PackageDirectoryLoader, WorkflowExecute } from 'n8n-core';
import type {
	ICredentialType,
	IDataObject,
	INode,
	INodeExecutionData,
	INodeType,
	INodeTypes,
	IPinData,
	IRun,
	IVersionedNodeType,
	IWorkflowBase,
	IWorkflowExecuteAdditionalData,
	WorkflowExecuteMode,
} from 'n8n-workflow';
import { createRunExecutionData, NodeHelpers, Workflow } from 'n8n-workflow';
import { ManualTrigger, NoOp } from './baseNodes';
import { type CredentialData, HarnessCredentialsHelper } from './credentials';

export const PACKAGE_NAME = 'n8n-nodes-referral-marketing';
const ROOT = path.resolve(__dirname, '../..');

export interface WorkflowJson {
	name?: string;
	nodes: INode[];
	connections: IWorkflowBase['connections'];
	pinData?: IPinData;
	settings?: IWorkflowBase['settings'];
}

interface Loaded {
	nodeTypes: INodeTypes;
	credentialTypes: Record<string, ICredentialType>;
	packageNodeNames: string[];
}

let loading: Promise<Loaded> | undefined;

/** Loads dist/ through n8n's own package loader once per test file. Run `npm run build` first. */
export function loadPackage(): Promise<Loaded> {
	loading ??= (async () => {
		const loader = new PackageDirectoryLoader(ROOT);
		await loader.loadAll();
		const types: Record<string, INodeType | IVersionedNodeType> = {
			'n8n-nodes-base.manualTrigger': new ManualTrigger(),
			'n8n-nodes-base.noOp': new NoOp(),
		};
		const packageNodeNames: string[] = [];
		for (const [name, data] of Object.entries(loader.nodeTypes)) {
			types[`${PACKAGE_NAME}.${name}`] = data.type;
			packageNodeNames.push(name);
		}
		const credentialTypes: Record<string, ICredentialType> = {};
		for (const [name, data] of Object.entries(loader.credentialTypes))
			credentialTypes[name] = data.type;
		const nodeTypes: INodeTypes = {
			getByName: (type) => {
				const found = types[type];
				if (!found) throw new Error(`Unknown node type "${type}" in harness workflow`);
				return found;
			},
			getByNameAndVersion: (type, version) =>
				NodeHelpers.getVersionedNodeType(nodeTypes.getByName(type), version),
			getKnownTypes: () => ({}),
		};
		return { nodeTypes, credentialTypes, packageNodeNames };
	})();
	return loading;
}

export interface RunResult {
	run: IRun;
	/** Output items of a node: `items('Referral Code')` is its first output of its last run. */
	items(nodeName: string, outputIndex?: number, runIndex?: number): INodeExecutionData[];
	/** The JSON of those items. */
	json(nodeName: string, outputIndex?: number, runIndex?: number): IDataObject[];
	/** The error a node stopped with, if any. */
	error(nodeName: string): (Error & { description?: string; context?: IDataObject }) | undefined;
	/** Milliseconds each node took. */
	executionTime(nodeName: string): number;
}

export interface RunOptions {
	credentials?: CredentialData;
	mode?: WorkflowExecuteMode;
}

let executionCounter = 0;

export async function runWorkflow(
	workflowJson: WorkflowJson,
	options: RunOptions = {},
): Promise<RunResult> {
	const { nodeTypes, credentialTypes } = await loadPackage();
	const mode = options.mode ?? 'manual';
	const workflow = new Workflow({
		id: 'harness',
		name: workflowJson.name ?? 'harness workflow',
		nodes: workflowJson.nodes,
		connections: workflowJson.connections,
		active: false,
		nodeTypes,
		staticData: {},
		settings: workflowJson.settings ?? {},
		pinData: workflowJson.pinData,
	});
	const executionId = String(++executionCounter);
	const workflowData = {
		id: 'harness',
		name: workflow.name,
		nodes: workflowJson.nodes,
		connections: workflowJson.connections,
	} as IWorkflowBase;
	const hooks = new ExecutionLifecycleHooks(mode, executionId, workflowData);
	let finished: IRun | undefined;
	hooks.addHandler('workflowExecuteAfter', (fullRunData) => {
		finished = fullRunData;
	});
	const additionalData = {
		credentialsHelper: new HarnessCredentialsHelper(options.credentials ?? {}, credentialTypes),
		hooks,
		executionId,
		currentNodeExecutionIndex: 0,
		restApiUrl: 'http://localhost:5678/rest',
		instanceBaseUrl: 'http://localhost:5678/',
		formBaseUrl: 'http://localhost:5678/form',
		formWaitingBaseUrl: 'http://localhost:5678/form-waiting',
		formTestBaseUrl: 'http://localhost:5678/form-test',
		webhookBaseUrl: 'http://localhost:5678/webhook',
		webhookWaitingBaseUrl: 'http://localhost:5678/webhook-waiting',
		webhookTestBaseUrl: 'http://localhost:5678/webhook-test',
		mcpBaseUrl: 'http://localhost:5678/mcp',
		mcpTestBaseUrl: 'http://localhost:5678/mcp-test',
		variables: {},
		userId: 'harness-user',
		logAiEvent: () => {},
		getRunExecutionData: async () => undefined,
		getRuntimeCredential: async () => undefined,
		executeWorkflow: async () => {
			throw new Error('Sub-workflows are not supported by the harness');
		},
		// Left undefined on purpose: anything else makes n8n-core try to decrypt or call a mock.
		encryptedRunnerIdentity: undefined,
		parentCallbackManager: undefined,
		ssrfBridge: undefined,
	} as unknown as IWorkflowExecuteAdditionalData;

	const runExecutionData = createRunExecutionData({
		executionData: { nodeExecutionStack: [] },
	} as never);
	const execute = new WorkflowExecute(additionalData, mode, runExecutionData);
	const startNode = workflowJson.nodes.find(
		(node) => node.type.endsWith('Trigger') || node.type.endsWith('trigger'),
	);
	const run = await execute.run({ workflow, startNode, pinData: workflowJson.pinData });
	const result = finished ?? run;
	const runData = result.data.resultData.runData;

	const taskOf = (nodeName: string, runIndex?: number) => {
		const tasks = runData[nodeName];
		if (!tasks || tasks.length === 0) throw new Error(`Node "${nodeName}" did not run`);
		return tasks[runIndex ?? tasks.length - 1];
	};
	return {
		run: result,
		items: (nodeName, outputIndex = 0, runIndex) => {
			const task = taskOf(nodeName, runIndex);
			if (task.error) throw task.error;
			return task.data?.main?.[outputIndex] ?? [];
		},
		json(nodeName, outputIndex = 0, runIndex) {
			return (this as RunResult)
				.items(nodeName, outputIndex, runIndex)
				.map((item: INodeExecutionData) => item.json);
		},
		error: (nodeName) => runData[nodeName]?.at(-1)?.error as never,
		executionTime: (nodeName) => taskOf(nodeName).executionTime,
	};
}

/** A workflow of a Manual Trigger (emitting `items`) into one node, the usual shape of a node test. */
export function singleNodeWorkflow(
	node: {
		type: string;
		parameters: IDataObject;
		continueOnFail?: boolean;
		credentials?: INode['credentials'];
		name?: string;
	},
	items: IDataObject[],
): WorkflowJson {
	const name = node.name ?? 'Node';
	return {
		nodes: [
			{
				id: 't',
				name: 'Start',
				type: 'n8n-nodes-base.manualTrigger',
				typeVersion: 1,
				position: [0, 0],
				parameters: {},
			},
			{
				id: 'n',
				name,
				type: node.type.includes('.') ? node.type : `${PACKAGE_NAME}.${node.type}`,
				typeVersion: 1,
				position: [200, 0],
				parameters: node.parameters as INode['parameters'],
				credentials: node.credentials,
				...(node.continueOnFail ? { onError: 'continueRegularOutput' as const } : {}),
			},
		],
		connections: { Start: { main: [[{ node: name, type: 'main', index: 0 }]] } },
		pinData: { Start: items.map((json) => ({ json })) },
	};
}
