import type { INodeProperties } from 'n8n-workflow';
import * as botCheck from './botCheck.operation';
import * as normalize from './normalize.operation';
import * as sign from './sign.operation';
import * as verify from './verify.operation';

/** The node's one resource (it has no Resource parameter): verify, normalize, sign, bot check. */
export const operations = { verify, normalize, sign, botCheck };

export const description: INodeProperties[] = Object.values(operations).flatMap(
	(operation) => operation.description,
);
