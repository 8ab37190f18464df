import Box from '@mui/material/Box';
import Chip from '@mui/material/Chip';
import List from '@mui/material/List';
import ListItem from '@mui/material/ListItem';
import Typography from '@mui/material/Typography';
import { NextStep } from '../api';
import { levelName } from './format';
import { Remediation } from './Remediation';

/** The steps to the next level, with how to take them (or just their titles when `brief`). */
export function NextSteps(props: { steps: NextStep[]; brief?: boolean }) {
  if (props.steps.length === 0) {
    return (
      <Typography variant="body2" color="text.secondary">
        Nothing to do: every check of the scorecard is met.
      </Typography>
    );
  }
  return (
    <List disablePadding>
      {props.steps.map(step => (
        <ListItem key={step.check} divider sx={{ display: 'block', px: 0 }}>
          <Box display="flex" alignItems="center" gap={1} flexWrap="wrap">
            <Typography variant="subtitle2" component="span">
              {step.title ?? step.check}
            </Typography>
            {step.level && (
              <Chip
                size="small"
                variant="outlined"
                label={levelName(step.level)}
              />
            )}
            {step.blocking && <Chip size="small" label="blocking" />}
          </Box>
          {step.summary && (
            <Typography variant="body2" color="text.secondary">
              {step.summary}
            </Typography>
          )}
          {!props.brief && <Remediation markdown={step.remediation} />}
        </ListItem>
      ))}
    </List>
  );
}
