import { type ResourceMap, routerFor } from '../../shared/router';
import * as page from './page/Page.resource';

/** One resource, no Resource parameter: every operation serves the marketer's pages or charts. */
const resources = { page: page.operations } satisfies ResourceMap;

export const router = routerFor(resources, { defaultResource: 'page' });
