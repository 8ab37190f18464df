// Scan reports written by scripts/generate-fixtures.py from `prr gate --format json` on the demo
// fleet; tests/test_backstage_fixtures.py keeps them valid against the report schema.
import { Entity } from '@backstage/catalog-model';
import { ScanReport } from '../api';
import readyGoldJson from './ready-gold.json';
import notReadyJson from './not-ready.json';
import failingJson from './failing.json';
import warningsJson from './warnings.json';

/** A deep copy, so a test may change it. */
function report(json: unknown): ScanReport {
  return JSON.parse(JSON.stringify(json));
}

export const readyGold = () => report(readyGoldJson);
export const notReady = () => report(notReadyJson);
export const failing = () => report(failingJson);
export const warnings = () => report(warningsJson);

/** The catalog entity a report is about. */
export function entityOf(scan: ScanReport): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name: scan.service.name, namespace: 'default' },
    spec: {
      type: 'service',
      owner: scan.service.owner,
      lifecycle: 'production',
    },
  };
}

/** A link a hostile repository might write, which must never become one. */
// eslint-disable-next-line no-script-url -- the hostile input under test
export const SCRIPT_URL = 'javascript:alert(1)';
