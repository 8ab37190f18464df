import { screen } from '@testing-library/react';
import {
  createExtensionTester,
  renderInTestApp,
} from '@backstage/frontend-test-utils';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import {
  EntityCardBlueprint,
  EntityContentBlueprint,
} from '@backstage/plugin-catalog-react/alpha';
import { coreExtensionData } from '@backstage/frontend-plugin-api';
import prrPlugin, { entityPrrCard, entityPrrContent } from './alpha';
import { prrApiRef } from './api';
import { entityOf, readyGold } from './__fixtures__';

const report = readyGold();
const apis = [
  [prrApiRef, { getScorecard: () => Promise.resolve(report) }],
] as const;

describe('new frontend system', () => {
  it('is the prr plugin with its API, tab and card', () => {
    expect(prrPlugin.pluginId).toBe('prr');
    expect(prrPlugin.getExtension('api:prr')).toBeDefined();
    expect(prrPlugin.getExtension('entity-content:prr')).toBeDefined();
    expect(prrPlugin.getExtension('entity-card:prr')).toBeDefined();
  });

  it('mounts the Readiness tab at prr, for components only', async () => {
    const tester = createExtensionTester(entityPrrContent, { apis });
    expect(tester.get(coreExtensionData.routePath)).toBe('prr');
    const filter = tester.get(EntityContentBlueprint.dataRefs.filterFunction)!;
    expect(filter(entityOf(report))).toBe(true);
    expect(filter({ ...entityOf(report), kind: 'Group' })).toBe(false);

    await renderInTestApp(
      <EntityProvider entity={entityOf(report)}>
        {tester.reactElement()}
      </EntityProvider>,
      { apis },
    );
    expect(
      await screen.findByText("Ready — meets Tier-1's Silver bar"),
    ).toBeInTheDocument();
    expect(screen.getByText('Gold checks')).toBeInTheDocument();
  });

  it('renders the overview card', async () => {
    const tester = createExtensionTester(entityPrrCard, { apis });
    expect(
      tester.get(EntityCardBlueprint.dataRefs.filterFunction)!({
        ...entityOf(report),
        kind: 'API',
      }),
    ).toBe(false);
    await renderInTestApp(
      <EntityProvider entity={entityOf(report)}>
        {tester.reactElement()}
      </EntityProvider>,
      { apis },
    );
    expect(await screen.findByText('Readiness')).toBeInTheDocument();
    expect(screen.getByText('100.0')).toBeInTheDocument();
  });
});
