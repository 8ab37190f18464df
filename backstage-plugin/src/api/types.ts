import { createApiRef } from '@backstage/core-plugin-api';
import { CompoundEntityRef } from '@backstage/catalog-model';

/** The status a check reported for itself. @public */
export type CheckStatus = 'pass' | 'fail' | 'warn' | 'error' | 'not_applicable';

/** Where a check found (or looked for) what it judged. @public */
export type Evidence = {
  path?: string;
  line?: number;
  url?: string;
  value?: unknown;
};

/** A waiver in force on a check. @public */
export type Waiver = {
  reason: string;
  approver: string;
  expires: string;
};

/** One check's result in a scan report. @public */
export type CheckResult = {
  id: string;
  title: string;
  category: string;
  kind?: 'repo' | 'live' | 'manual';
  level: string;
  weight: number;
  blocking: boolean;
  status: CheckStatus;
  /** Whether the check counts as met; null when it does not apply. */
  met: boolean | null;
  waived: boolean;
  waiver: Waiver | null;
  summary: string;
  evidence: Evidence[];
  remediation: string;
  docs_url?: string | null;
};

/** What to do next to reach the next level. @public */
export type NextStep = {
  check: string;
  title?: string;
  level?: string;
  blocking?: boolean;
  summary?: string;
  remediation: string;
};

/**
 * A scan report (schema `prr/scan-report/v1`): one service evaluated at one commit against
 * one scorecard.
 *
 * @public
 */
export type ScanReport = {
  schema: 'prr/scan-report/v1';
  service: {
    ref: string;
    name: string;
    owner: string | null;
    tier: string;
    tier_declared: boolean;
    tier_source: string;
    lifecycle: string | null;
  };
  source: { repo: string; commit: string; scanned_at: string };
  scan_id: number | null;
  scorecard: {
    id: string;
    version: string;
    levels: string[];
    required_level: string;
  };
  score: number | null;
  level: string | null;
  ready: boolean;
  next_steps: NextStep[];
  links: { portal: string | null };
  checks: CheckResult[];
};

/** Reads served scorecards from the PRR Portal. @public */
export interface PrrApi {
  /**
   * The served scan report of the entity, or undefined when the portal has never scanned it.
   * Throws when the portal cannot be reached or answers with an error.
   */
  getScorecard(entityRef: CompoundEntityRef): Promise<ScanReport | undefined>;
}

/** The API ref of {@link PrrApi}. @public */
export const prrApiRef = createApiRef<PrrApi>({ id: 'plugin.prr.api' });
