import { type ResourceMap, routerFor } from '../../shared/router';
import * as points from './points/Points.resource';
import * as reward from './reward/Reward.resource';

const resources = { reward: reward.operations, points: points.operations } satisfies ResourceMap;

// Saved workflows may name a Points operation without the resource (the earlier router read only the operation).
export const router = routerFor(resources, { defaultResource: 'reward', operationDecides: true });
