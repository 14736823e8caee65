import { type ResourceMap, routerFor } from '../../shared/router';
import { OUTPUT_NAMES } from './delivery';
import * as email from './email/Email.resource';
import * as sms from './sms/Sms.resource';

/** The channel is the resource; Render, Unsubscribe and Resubscribe answer one list, which goes to the first of the four outputs. */
const resources = { email: email.operations, sms: sms.operations } satisfies ResourceMap;

export const router = routerFor(resources, { outputs: OUTPUT_NAMES.length });
