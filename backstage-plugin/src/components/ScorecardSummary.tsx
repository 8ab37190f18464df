import { StatusError, StatusOK } from '@backstage/core-components';
import Box from '@mui/material/Box';
import Chip from '@mui/material/Chip';
import Tooltip from '@mui/material/Tooltip';
import Typography from '@mui/material/Typography';
import { ScanReport } from '../api';
import { levelName, tierName, timeAgo, verdictText } from './format';

const LEVEL_COLOURS: Record<string, { background: string; text: string }> = {
  bronze: { background: '#c47f45', text: '#fff' },
  silver: { background: '#9aa5b1', text: '#1d2329' },
  gold: { background: '#e0b32d', text: '#1d2329' },
};

/** The level reached, as a medal-coloured chip. */
export function LevelBadge(props: { level: string | null }) {
  const colours = props.level ? LEVEL_COLOURS[props.level] : undefined;
  return (
    <Chip
      label={props.level ? levelName(props.level) : 'No level'}
      variant={colours ? 'filled' : 'outlined'}
      sx={
        colours && {
          backgroundColor: colours.background,
          color: colours.text,
          fontWeight: 700,
        }
      }
    />
  );
}

/** Level, score, the ready verdict against the tier, and how fresh the scan is. */
export function ScorecardSummary(props: { report: ScanReport }) {
  const { report } = props;
  const { service, source } = report;
  const Verdict = report.ready ? StatusOK : StatusError;
  return (
    <Box display="flex" flexDirection="column" gap={1.5}>
      <Box display="flex" alignItems="center" gap={2}>
        <LevelBadge level={report.level} />
        <Typography variant="h4" component="p">
          {report.score === null ? '–' : report.score.toFixed(1)}
          <Typography component="span" variant="body2" color="text.secondary">
            {' '}
            / 100
          </Typography>
        </Typography>
      </Box>
      <Typography variant="subtitle1" component="p">
        <Verdict>{verdictText(report)}</Verdict>
      </Typography>
      <Typography variant="body2" color="text.secondary">
        {tierName(report)}{' '}
        {service.tier_declared
          ? `(${service.tier_source})`
          : `(no tier declared: ${service.tier_source})`}
        {' · '}
        {report.checks.filter(check => check.met === true).length} of{' '}
        {report.checks.filter(check => check.met !== null).length} checks met
      </Typography>
      <Typography variant="body2" color="text.secondary">
        <Tooltip title={source.scanned_at}>
          <span>scanned {timeAgo(source.scanned_at)}</span>
        </Tooltip>
        {' at commit '}
        <code>{source.commit.slice(0, 12)}</code>
      </Typography>
    </Box>
  );
}
