import { type ResourceMap, routerFor } from '../../shared/router';
import * as code from './code/Code.resource';
import * as issuedCode from './issuedCode/IssuedCode.resource';

const resources = {
	code: code.operations,
	issuedCode: issuedCode.operations,
} satisfies ResourceMap;

// Saved workflows may name an Issued Code operation without the resource (the earlier router read only the operation).
export const router = routerFor(resources, { defaultResource: 'code', operationDecides: true });
