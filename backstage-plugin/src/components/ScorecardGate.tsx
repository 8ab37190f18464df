import { ReactNode } from 'react';
import {
  EmptyState,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import Button from '@mui/material/Button';
import { ScanReport } from '../api';
import { useScorecard } from './useScorecard';

/** Wraps what the gate shows, given the report once there is one. */
export type Frame = (content: ReactNode, report?: ScanReport) => ReactNode;

const unframed: Frame = content => content;

/**
 * Renders its children with the entity's scan report, and the loading, never-scanned and
 * portal-unreachable states otherwise, each inside `frame` when given.
 */
export function ScorecardGate(props: {
  children: (report: ScanReport) => ReactNode;
  frame?: Frame;
}) {
  const frame = props.frame ?? unframed;
  return <>{frame(...useGateContent(props.children))}</>;
}

function useGateContent(
  children: (report: ScanReport) => ReactNode,
): [ReactNode, ScanReport?] {
  const { entityRef, value, loading, error, retry } = useScorecard();
  if (loading) {
    return [<Progress />];
  }
  if (error) {
    return [
      <ResponseErrorPanel
        title="Could not load the readiness scorecard from PRR Portal"
        error={error}
      />,
    ];
  }
  if (!value) {
    return [
      <EmptyState
        missing="data"
        title="Not scanned yet"
        description={`PRR Portal has no scan of ${entityRef}. Add its repository to the portal's fleet, or run \`prr gate .\` in the repository to see the verdict now.`}
        action={
          <Button variant="outlined" onClick={retry}>
            Check again
          </Button>
        }
      />,
    ];
  }
  return [children(value), value];
}
