import { SCRIPT_URL, notReady, readyGold } from '../__fixtures__';
import { httpUrl, timeAgo, verdictText } from './format';

describe('timeAgo', () => {
  const now = Date.parse('2026-01-15T12:00:00Z');
  it.each([
    ['2026-01-15T11:59:30Z', 'just now'],
    ['2026-01-15T11:35:00Z', '25 min ago'],
    ['2026-01-15T09:00:00Z', '3 h ago'],
    ['2026-01-13T12:00:00Z', '2 days ago'],
    ['not a date', 'at an unknown time'],
  ])('%s is %s', (iso, expected) => {
    expect(timeAgo(iso, now)).toBe(expected);
  });
});

describe('verdictText', () => {
  it('says which bar is met or missed', () => {
    expect(verdictText(readyGold())).toBe("Ready — meets Tier-1's Silver bar");
    expect(verdictText(notReady())).toBe('Not ready — Tier-1 needs Silver');
  });

  it('says so when the level is reached but a blocking check is not met', () => {
    const report = notReady();
    report.level = 'gold';
    expect(verdictText(report)).toBe(
      "Not ready — Tier-1's Silver bar needs every blocking check met",
    );
  });
});

describe('httpUrl', () => {
  it('keeps only absolute http(s) URLs', () => {
    expect(httpUrl('https://x.example/a b')).toBe('https://x.example/a%20b');
    expect(httpUrl('http://x.example/')).toBe('http://x.example/');
    expect(httpUrl(SCRIPT_URL)).toBeUndefined();
    expect(httpUrl('data:text/html,<b>')).toBeUndefined();
    expect(httpUrl('docs/runbook.md')).toBeUndefined();
    expect(httpUrl(null)).toBeUndefined();
  });
});
