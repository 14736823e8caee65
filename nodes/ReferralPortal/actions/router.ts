import { type ResourceMap, routerFor } from '../../shared/router';
import * as page from './page/Page.resource';

/** One resource, no Resource parameter: every operation answers an HTML page. */
const resources = { page: page.operations } satisfies ResourceMap;

export const router = routerFor(resources, { defaultResource: 'page' });
