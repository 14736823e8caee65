import { type ResourceMap, routerFor } from '../../shared/router';
import * as webhook from './webhook/Webhook.resource';

const resources = { webhook: webhook.operations } satisfies ResourceMap;

// Verify and Botcheck answer Verified / Rejected, Normalize Conversion / Refund / Ignored, Sign one list.
export const router = routerFor(resources, { defaultResource: 'webhook' });
