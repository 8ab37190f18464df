import { Entity, parseEntityRef } from '@backstage/catalog-model';
import {
  Content,
  Header,
  HeaderLabel,
  Page,
  TabbedLayout,
} from '@backstage/core-components';
import { createDevApp } from '@backstage/dev-utils';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import Grid from '@mui/material/Grid';
import { EntityPrrCard, EntityPrrContent, prrPlugin } from '../src';

// The entity on the page: ?entity=component:default/checkout, else a service of the demo fleet.
function entityFromLocation(): Entity {
  const ref = parseEntityRef(
    new URLSearchParams(window.location.search).get('entity') ??
      'component:default/inventory',
  );
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: ref.kind,
    metadata: { name: ref.name, namespace: ref.namespace },
    spec: { type: 'service', lifecycle: 'production' },
  };
}

function EntityPage() {
  const entity = entityFromLocation();
  return (
    <EntityProvider entity={entity}>
      <Page themeId="service">
        <Header title={entity.metadata.name} type="component — service">
          <HeaderLabel label="Lifecycle" value="production" />
        </Header>
        <TabbedLayout>
          <TabbedLayout.Route path="/" title="Overview">
            <Content>
              <Grid container spacing={3}>
                <Grid item xs={12} md={6}>
                  <EntityPrrCard />
                </Grid>
              </Grid>
            </Content>
          </TabbedLayout.Route>
          <TabbedLayout.Route path="/prr" title="Readiness">
            <EntityPrrContent />
          </TabbedLayout.Route>
        </TabbedLayout>
      </Page>
    </EntityProvider>
  );
}

createDevApp()
  .registerPlugin(prrPlugin)
  .addPage({ path: '/entity', title: 'Entity page', element: <EntityPage /> })
  .render();
