/**
 * Production readiness scorecards from PRR Portal on Backstage catalog entity pages.
 *
 * @packageDocumentation
 */
export {
  prrPlugin,
  EntityPrrContent,
  EntityPrrCard,
  rootRouteRef,
} from './plugin';
export { isPrrAvailable } from './isPrrAvailable';
export { PrrClient, DEFAULT_PROXY_PATH, prrApiRef } from './api';
export type {
  CheckResult,
  CheckStatus,
  Evidence,
  NextStep,
  PrrApi,
  ScanReport,
  Waiver,
} from './api';
