import { ReactNode } from 'react';
import {
  InfoCard,
  Link,
  StatusAborted,
  StatusError,
  StatusOK,
  StatusWarning,
} from '@backstage/core-components';
import Accordion from '@mui/material/Accordion';
import AccordionDetails from '@mui/material/AccordionDetails';
import AccordionSummary from '@mui/material/AccordionSummary';
import Box from '@mui/material/Box';
import Chip from '@mui/material/Chip';
import List from '@mui/material/List';
import ListItem from '@mui/material/ListItem';
import Typography from '@mui/material/Typography';
import ExpandMoreIcon from '@mui/icons-material/ExpandMore';
import { CheckResult, CheckStatus, Evidence } from '../api';
import { httpUrl, levelName } from './format';
import { Remediation } from './Remediation';

const STATUS: Record<
  CheckStatus,
  { Icon: (props: { children?: ReactNode }) => JSX.Element; label: string }
> = {
  pass: { Icon: StatusOK, label: 'Pass' },
  fail: { Icon: StatusError, label: 'Fail' },
  warn: { Icon: StatusWarning, label: 'Warn' },
  error: { Icon: StatusError, label: 'Error' },
  not_applicable: { Icon: StatusAborted, label: 'Not applicable' },
};

function CheckStatusLabel(props: { status: CheckStatus }) {
  const { Icon, label } = STATUS[props.status];
  return <Icon>{label}</Icon>;
}

function EvidenceItem(props: { evidence: Evidence }) {
  const { path, line, url } = props.evidence;
  const where = path ? `${path}${line ? `:${line}` : ''}` : undefined;
  const link = httpUrl(url);
  if (link) {
    return <Link to={link}>{where ?? link}</Link>;
  }
  return where ? <code>{where}</code> : null;
}

function CheckItem(props: { check: CheckResult }) {
  const { check } = props;
  const evidence = check.evidence.filter(
    item => item.path || httpUrl(item.url),
  );
  const docs = httpUrl(check.docs_url);
  return (
    <ListItem divider sx={{ display: 'block', py: 1.5 }}>
      <Box display="flex" alignItems="center" gap={1} flexWrap="wrap">
        <Box minWidth={140}>
          <CheckStatusLabel status={check.status} />
        </Box>
        <Typography variant="subtitle2" component="span">
          {check.title}
        </Typography>
        <Typography variant="caption" color="text.secondary">
          {check.id}
        </Typography>
        {check.blocking && <Chip size="small" label="blocking" />}
        {check.waived && (
          <Chip size="small" color="info" variant="outlined" label="waived" />
        )}
      </Box>
      <Box pl="148px">
        <Typography variant="body2">{check.summary}</Typography>
        {evidence.length > 0 && (
          <Typography variant="body2" color="text.secondary" component="div">
            Evidence:{' '}
            {evidence.map((item, index) => (
              <Box component="span" key={index} mr={1.5}>
                <EvidenceItem evidence={item} />
              </Box>
            ))}
          </Typography>
        )}
        {check.waiver && (
          <Typography variant="body2" color="text.secondary">
            Waived by {check.waiver.approver} until {check.waiver.expires}:{' '}
            {check.waiver.reason}
          </Typography>
        )}
        {check.met === false && check.remediation && (
          <Accordion
            disableGutters
            elevation={0}
            sx={{ mt: 1, '&:before': { display: 'none' } }}
          >
            <AccordionSummary expandIcon={<ExpandMoreIcon />} sx={{ px: 0 }}>
              <Typography variant="body2" color="primary">
                How to fix
              </Typography>
            </AccordionSummary>
            <AccordionDetails sx={{ px: 0 }}>
              <Remediation markdown={check.remediation} />
              {docs && <Link to={docs}>Read more</Link>}
            </AccordionDetails>
          </Accordion>
        )}
      </Box>
    </ListItem>
  );
}

/** The checks of one level, in one card. */
export function LevelChecks(props: { level: string; checks: CheckResult[] }) {
  const applicable = props.checks.filter(check => check.met !== null);
  const met = applicable.filter(check => check.met).length;
  return (
    <InfoCard
      title={`${levelName(props.level)} checks`}
      subheader={`${met} of ${applicable.length} met`}
      noPadding
    >
      <List disablePadding aria-label={`${levelName(props.level)} checks`}>
        {props.checks.map(check => (
          <CheckItem key={check.id} check={check} />
        ))}
      </List>
    </InfoCard>
  );
}
