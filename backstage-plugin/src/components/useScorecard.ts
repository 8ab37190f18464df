import {
  getCompoundEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { useApi } from '@backstage/core-plugin-api';
import { useEntity } from '@backstage/plugin-catalog-react';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { prrApiRef } from '../api';

/** The served scorecard of the entity on the page. */
export function useScorecard() {
  const { entity } = useEntity();
  const api = useApi(prrApiRef);
  const ref = getCompoundEntityRef(entity);
  const state = useAsyncRetry(
    () => api.getScorecard(ref),
    [api, ref.kind, ref.namespace, ref.name],
  );
  return { entityRef: stringifyEntityRef(entity), ...state };
}
