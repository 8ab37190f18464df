import { MarkdownContent } from '@backstage/core-components';
import { httpUrl } from './format';

const noImage = () => '';
const httpLinkOnly = (href: string) => httpUrl(href) ?? '';

/**
 * Markdown from a scan report, which a repository can influence: CommonMark without raw HTML,
 * links only to http(s) URLs, no images.
 */
export function Remediation(props: { markdown: string }) {
  return (
    <MarkdownContent
      content={props.markdown}
      dialect="common-mark"
      linkTarget="_blank"
      transformLinkUri={httpLinkOnly}
      transformImageUri={noImage}
    />
  );
}
