import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { ResponseError } from '@backstage/errors';
import { CheckResult, PrrApi, ScanReport, prrApiRef } from '../api';
import {
  SCRIPT_URL,
  entityOf,
  failing,
  notReady,
  readyGold,
  warnings,
} from '../__fixtures__';
import { ReadinessContent } from './ReadinessContent';

function renderContent(
  getScorecard: PrrApi['getScorecard'],
  entity = entityOf(readyGold()),
) {
  return renderInTestApp(
    <TestApiProvider apis={[[prrApiRef, { getScorecard }]]}>
      <EntityProvider entity={entity}>
        <ReadinessContent />
      </EntityProvider>
    </TestApiProvider>,
  );
}

const serve = (report: ScanReport) => () => Promise.resolve(report);

/** The item of a check in its level's list. */
function checkItem(check: CheckResult): HTMLElement {
  const list = screen.getByRole('list', {
    name: `${check.level[0].toUpperCase()}${check.level.slice(1)} checks`,
  });
  return within(list).getByText(check.summary).closest('li')!;
}

describe('ReadinessContent', () => {
  it('shows a ready service: level, score, verdict, freshness and the portal link', async () => {
    const report = readyGold();
    report.source.scanned_at = new Date(
      Date.now() - 3 * 3600_000,
    ).toISOString();
    const getScorecard = jest.fn(serve(report));
    await renderContent(getScorecard);

    expect(getScorecard).toHaveBeenCalledWith({
      kind: 'Component',
      namespace: 'default',
      name: 'cart',
    });
    expect(screen.getByText('Gold')).toBeInTheDocument();
    expect(screen.getByText('100.0')).toBeInTheDocument();
    expect(
      screen.getByText("Ready — meets Tier-1's Silver bar"),
    ).toBeInTheDocument();
    expect(screen.getByText('scanned 3 h ago')).toBeInTheDocument();
    expect(
      screen.getByText('Nothing to do: every check of the scorecard is met.'),
    ).toBeInTheDocument();
    expect(
      screen.getByRole('link', { name: /Open in PRR Portal/ }),
    ).toHaveAttribute(
      'href',
      'https://prr.example.com/services/component/default/cart',
    );
  });

  it('groups the checks by level with status, summary and evidence at path:line', async () => {
    const report = notReady();
    await renderContent(serve(report), entityOf(report));

    expect(
      screen.getByText('Not ready — Tier-1 needs Silver'),
    ).toBeInTheDocument();
    for (const level of ['Bronze', 'Silver', 'Gold']) {
      expect(screen.getByText(`${level} checks`)).toBeInTheDocument();
    }
    const check = report.checks.find(c => c.id === 'slo.defined')!;
    const item = checkItem(check);
    expect(within(item).getByText(check.title)).toBeInTheDocument();
    expect(within(item).getByText('Error')).toBeInTheDocument();
    const { path, line } = check.evidence[0];
    expect(within(item).getByText(`${path}:${line}`)).toBeInTheDocument();
    const bronze = report.checks.filter(c => c.level === 'bronze');
    expect(
      screen.getByText(
        `${bronze.filter(c => c.met).length} of ${
          bronze.filter(c => c.met !== null).length
        } met`,
      ),
    ).toBeInTheDocument();
  });

  it('lists the next steps with how to take them, and the remediation of failed checks', async () => {
    const report = failing();
    await renderContent(serve(report), entityOf(report));

    expect(screen.getByText('No level')).toBeInTheDocument();
    const step = report.next_steps[0];
    expect(screen.getAllByText(step.title!).length).toBeGreaterThan(0);
    const failed = report.checks.find(c => c.status === 'fail')!;
    const item = checkItem(failed);
    await userEvent.click(within(item).getByText('How to fix'));
    expect(within(item).getByText('Read more')).toBeInTheDocument();
  });

  it('marks warnings and checks that do not apply', async () => {
    const report = warnings();
    await renderContent(serve(report), entityOf(report));
    expect(
      screen.getByText("Ready — meets Tier-2's Bronze bar"),
    ).toBeInTheDocument();
    expect(screen.getAllByText('Warn')).toHaveLength(
      report.checks.filter(c => c.status === 'warn').length,
    );
    expect(screen.getAllByText('Not applicable')).toHaveLength(
      report.checks.filter(c => c.status === 'not_applicable').length,
    );
  });

  it('renders hostile repo strings as text, with only http(s) links', async () => {
    const report = failing();
    const check = report.checks.find(c => c.status === 'fail')!;
    check.summary = '<img src=x onerror="alert(1)">summary';
    check.remediation = `Fix it: <script>alert(1)</script> [bad](${SCRIPT_URL}) [good](https://example.com/fix) ![pixel](https://tracker.example/p.png)`;
    check.evidence = [
      { path: 'a.yaml', line: 3, url: SCRIPT_URL },
      { path: 'b.yaml', url: 'https://git.example.com/b.yaml#L1' },
    ];
    report.links.portal = SCRIPT_URL;
    const { container } = await renderContent(serve(report), entityOf(report));

    const item = checkItem(check);
    await userEvent.click(within(item).getByText('How to fix'));
    expect(within(item).getByText('good')).toHaveAttribute(
      'href',
      'https://example.com/fix',
    );
    expect(within(item).getByText(/bad/)).toBeInTheDocument();
    expect(within(item).queryByRole('link', { name: /bad/ })).toBeNull();
    expect(within(item).getByText('a.yaml:3')).not.toHaveAttribute('href');
    expect(within(item).getByText('b.yaml')).toHaveAttribute(
      'href',
      'https://git.example.com/b.yaml#L1',
    );
    expect(
      container.querySelector('script, img[src]:not([src=""])'),
    ).toBeNull();
    expect(container.innerHTML).not.toMatch(/javascript:/);
    expect(screen.queryByText(/Open in PRR Portal/)).toBeNull();
  });

  it('shows an empty state for a service the portal never scanned', async () => {
    await renderContent(() => Promise.resolve(undefined));
    expect(screen.getByText('Not scanned yet')).toBeInTheDocument();
    expect(
      screen.getByText(/PRR Portal has no scan of component:default\/cart/),
    ).toBeInTheDocument();
  });

  it('shows an error when the portal is unreachable', async () => {
    const response = new Response('upstream unavailable', {
      status: 503,
      statusText: 'Service Unavailable',
    });
    const error = await ResponseError.fromResponse(response);
    await renderContent(() => Promise.reject(error));
    expect(
      screen.getByText(
        /Could not load the readiness scorecard from PRR Portal/,
      ),
    ).toBeInTheDocument();
    expect(screen.getAllByText(/503/).length).toBeGreaterThan(0);
  });
});
