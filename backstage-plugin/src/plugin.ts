import {
  createComponentExtension,
  createPlugin,
  createRoutableExtension,
  createRouteRef,
} from '@backstage/core-plugin-api';
import { prrApiFactory } from './api';

/** The route of the Readiness tab. @public */
export const rootRouteRef = createRouteRef({ id: 'prr' });

/** The PRR Portal plugin (legacy frontend system). @public */
export const prrPlugin = createPlugin({
  id: 'prr',
  apis: [prrApiFactory],
  routes: { root: rootRouteRef },
});

/** The "Readiness" tab of a catalog entity page. @public */
export const EntityPrrContent = prrPlugin.provide(
  createRoutableExtension({
    name: 'EntityPrrContent',
    component: () =>
      import('./components/ReadinessContent').then(m => m.ReadinessContent),
    mountPoint: rootRouteRef,
  }),
);

/** The readiness card of a catalog entity's overview. @public */
export const EntityPrrCard = prrPlugin.provide(
  createComponentExtension({
    name: 'EntityPrrCard',
    component: {
      lazy: () =>
        import('./components/ReadinessCard').then(m => m.ReadinessCard),
    },
  }),
);
