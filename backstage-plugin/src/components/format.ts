import { ScanReport } from '../api';

/** `silver` -> `Silver`. */
export function levelName(level: string): string {
  return level.charAt(0).toLocaleUpperCase('en-US') + level.slice(1);
}

export function tierName(report: ScanReport): string {
  return `Tier-${report.service.tier}`;
}

/** "Ready — meets Tier-1's Silver bar", or why not. */
export function verdictText(report: ScanReport): string {
  const tier = tierName(report);
  const bar = levelName(report.scorecard.required_level);
  if (report.ready) {
    return `Ready — meets ${tier}'s ${bar} bar`;
  }
  const { levels, required_level: required } = report.scorecard;
  const reached =
    report.level !== null &&
    levels.indexOf(report.level) >= levels.indexOf(required);
  return reached
    ? `Not ready — ${tier}'s ${bar} bar needs every blocking check met`
    : `Not ready — ${tier} needs ${bar}`;
}

/** "3 h ago" for a timestamp three hours before `now`. */
export function timeAgo(iso: string, now: number = Date.now()): string {
  const minutes = Math.floor((now - Date.parse(iso)) / 60_000);
  if (Number.isNaN(minutes)) {
    return 'at an unknown time';
  }
  if (minutes < 1) {
    return 'just now';
  }
  if (minutes < 60) {
    return `${minutes} min ago`;
  }
  const hours = Math.floor(minutes / 60);
  if (hours < 48) {
    return `${hours} h ago`;
  }
  return `${Math.floor(hours / 24)} days ago`;
}

/**
 * The URL when it is an absolute http(s) URL, else undefined. Strings in a report come from the
 * scanned repositories, so nothing else (javascript:, data:, relative paths) becomes a link.
 */
export function httpUrl(value: string | null | undefined): string | undefined {
  if (!value) {
    return undefined;
  }
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:'
      ? url.href
      : undefined;
  } catch {
    return undefined;
  }
}

/** "Open in PRR Portal", when the report says where the service's portal page is. */
export function portalDeepLink(
  report: ScanReport,
): { title: string; link: string } | undefined {
  const link = httpUrl(report.links.portal);
  return link ? { title: 'Open in PRR Portal', link } : undefined;
}
