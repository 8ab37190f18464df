export { PrrClient, DEFAULT_PROXY_PATH, prrApiFactory } from './PrrClient';
export { prrApiRef } from './types';
export type {
  CheckResult,
  CheckStatus,
  Evidence,
  NextStep,
  PrrApi,
  ScanReport,
  Waiver,
} from './types';
