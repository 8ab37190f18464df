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

const entity = entityFromLocation();

// An element tree, not a component: the app discovers the routable EntityPrrContent in it.
const entityPage = (
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

// Sign in as the guest user without a click: the sign-in page tries the remembered provider first.
localStorage.setItem('@backstage/core:SignInPage:provider', 'guest');

createDevApp()
  .registerPlugin(prrPlugin)
  .addPage({ path: '/entity', title: 'Entity page', element: entityPage })
  .render();
