import { InfoCard } from '@backstage/core-components';
import Grid from '@mui/material/Grid';
import { ScanReport } from '../api';
import { LevelChecks } from './CheckList';
import { NextSteps } from './NextSteps';
import { portalDeepLink } from './format';
import { ScorecardGate } from './ScorecardGate';
import { ScorecardSummary } from './ScorecardSummary';

function Scorecard(props: { report: ScanReport }) {
  const { report } = props;
  return (
    <Grid container spacing={3} alignItems="stretch">
      <Grid item xs={12} md={5}>
        <InfoCard
          title="Readiness"
          variant="gridItem"
          deepLink={portalDeepLink(report)}
        >
          <ScorecardSummary report={report} />
        </InfoCard>
      </Grid>
      <Grid item xs={12} md={7}>
        <InfoCard title="Next steps" variant="gridItem">
          <NextSteps steps={report.next_steps} />
        </InfoCard>
      </Grid>
      {report.scorecard.levels.map(level => {
        const checks = report.checks.filter(check => check.level === level);
        return (
          checks.length > 0 && (
            <Grid item xs={12} key={level}>
              <LevelChecks level={level} checks={checks} />
            </Grid>
          )
        );
      })}
    </Grid>
  );
}

/** The "Readiness" tab: the whole scorecard of the entity. */
export function ReadinessContent() {
  return (
    <ScorecardGate>{report => <Scorecard report={report} />}</ScorecardGate>
  );
}
