import { screen } from '@testing-library/react';
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { prrApiRef } from '../api';
import { entityOf, failing, readyGold } from '../__fixtures__';
import { ReadinessCard } from './ReadinessCard';

describe('ReadinessCard', () => {
  it('sums up the verdict and the first next steps, linking to the portal', async () => {
    const report = failing();
    report.next_steps = [1, 2, 3, 4].map(n => ({
      check: `step.${n}`,
      title: `Step ${n}`,
      remediation: 'Do it.',
    }));
    await renderInTestApp(
      <TestApiProvider
        apis={[[prrApiRef, { getScorecard: () => Promise.resolve(report) }]]}
      >
        <EntityProvider entity={entityOf(report)}>
          <ReadinessCard />
        </EntityProvider>
      </TestApiProvider>,
    );
    expect(screen.getByText('Readiness')).toBeInTheDocument();
    expect(screen.getByText('No level')).toBeInTheDocument();
    expect(
      screen.getByText('Not ready — Tier-1 needs Silver'),
    ).toBeInTheDocument();
    expect(screen.getByText('Step 3')).toBeInTheDocument();
    expect(screen.queryByText('Step 4')).toBeNull();
    expect(screen.queryByText('Do it.')).toBeNull();
    expect(
      screen.getByRole('link', { name: /Open in PRR Portal/ }),
    ).toHaveAttribute(
      'href',
      'https://prr.example.com/services/component/default/shipping-rates',
    );
  });

  it('keeps the empty state inside the card', async () => {
    await renderInTestApp(
      <TestApiProvider
        apis={[[prrApiRef, { getScorecard: () => Promise.resolve(undefined) }]]}
      >
        <EntityProvider entity={entityOf(readyGold())}>
          <ReadinessCard />
        </EntityProvider>
      </TestApiProvider>,
    );
    expect(screen.getByText('Readiness')).toBeInTheDocument();
    expect(screen.getByText('Not scanned yet')).toBeInTheDocument();
  });
});
