import { type ResourceMap, routerFor } from '../../shared/router';
import * as lead from './lead/Lead.resource';

/** One resource, no Resource parameter: every operation works on the leads in the input items. */
const resources = { lead: lead.operations } satisfies ResourceMap;

export const router = routerFor(resources, { defaultResource: 'lead' });
