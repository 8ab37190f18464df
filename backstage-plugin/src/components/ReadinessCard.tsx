import { InfoCard } from '@backstage/core-components';
import Box from '@mui/material/Box';
import Typography from '@mui/material/Typography';
import { ScanReport } from '../api';
import { portalDeepLink } from './format';
import { NextSteps } from './NextSteps';
import { ScorecardGate } from './ScorecardGate';
import { ScorecardSummary } from './ScorecardSummary';

/** How many next steps the overview card lists. */
const CARD_NEXT_STEPS = 3;

function CardBody(props: { report: ScanReport }) {
  const { report } = props;
  const steps = report.next_steps.slice(0, CARD_NEXT_STEPS);
  return (
    <Box display="flex" flexDirection="column" gap={2}>
      <ScorecardSummary report={report} />
      {steps.length > 0 && (
        <Box>
          <Typography variant="overline">Next steps</Typography>
          <NextSteps steps={steps} brief />
        </Box>
      )}
    </Box>
  );
}

/** The overview card: level, score, verdict, freshness and the first next steps. */
export function ReadinessCard() {
  return (
    <ScorecardGate
      frame={(children, report) => (
        <InfoCard title="Readiness" deepLink={report && portalDeepLink(report)}>
          {children}
        </InfoCard>
      )}
    >
      {report => <CardBody report={report} />}
    </ScorecardGate>
  );
}
