import {
  ApiBlueprint,
  createFrontendPlugin,
} from '@backstage/frontend-plugin-api';
import {
  EntityCardBlueprint,
  EntityContentBlueprint,
} from '@backstage/plugin-catalog-react/alpha';
import { prrApiFactory } from './api';
import { isPrrAvailable } from './isPrrAvailable';

/** The PRR Portal client, through the Backstage proxy. @alpha */
export const prrApi = ApiBlueprint.make({
  params: defineParams => defineParams(prrApiFactory),
});

/** The "Readiness" tab of a catalog entity page. @alpha */
export const entityPrrContent = EntityContentBlueprint.make({
  params: {
    path: 'prr',
    title: 'Readiness',
    filter: isPrrAvailable,
    loader: () =>
      import('./components/ReadinessContent').then(m => <m.ReadinessContent />),
  },
});

/** The readiness card of a catalog entity's overview. @alpha */
export const entityPrrCard = EntityCardBlueprint.make({
  params: {
    filter: isPrrAvailable,
    loader: () =>
      import('./components/ReadinessCard').then(m => <m.ReadinessCard />),
  },
});

/** The PRR Portal plugin (new frontend system). @alpha */
export default createFrontendPlugin({
  pluginId: 'prr',
  title: 'Readiness',
  info: { packageJson: () => import('../package.json') },
  extensions: [prrApi, entityPrrContent, entityPrrCard],
});
