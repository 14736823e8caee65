import { type ResourceMap, routerFor } from '../../shared/router';
import * as customer from './customer/Customer.resource';

/** One resource, no Resource parameter: every operation analyses the customers in the input items. */
const resources = { customer: customer.operations } satisfies ResourceMap;

export const router = routerFor(resources, { defaultResource: 'customer' });
