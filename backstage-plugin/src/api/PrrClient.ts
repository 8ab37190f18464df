import { CompoundEntityRef, DEFAULT_NAMESPACE } from '@backstage/catalog-model';
import {
  ConfigApi,
  DiscoveryApi,
  FetchApi,
  createApiFactory,
  configApiRef,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/core-plugin-api';
import { ResponseError } from '@backstage/errors';
import { PrrApi, ScanReport, prrApiRef } from './types';

/** The path under the Backstage proxy that reaches the portal, unless `prr.proxyPath` says otherwise. @public */
export const DEFAULT_PROXY_PATH = '/prr';

/**
 * Calls the PRR Portal's JSON API through the Backstage proxy
 * (`<backend>/api/proxy/prr` by default).
 *
 * @public
 */
export class PrrClient implements PrrApi {
  private readonly discoveryApi: DiscoveryApi;
  private readonly fetchApi: FetchApi;
  private readonly proxyPath: string;

  static fromConfig(
    configApi: ConfigApi,
    deps: { discoveryApi: DiscoveryApi; fetchApi: FetchApi },
  ): PrrClient {
    return new PrrClient({
      ...deps,
      proxyPath: configApi.getOptionalString('prr.proxyPath'),
    });
  }

  constructor(options: {
    discoveryApi: DiscoveryApi;
    fetchApi: FetchApi;
    /** Path under the proxy, e.g. `/prr` (the default). */
    proxyPath?: string;
  }) {
    this.discoveryApi = options.discoveryApi;
    this.fetchApi = options.fetchApi;
    const path = options.proxyPath ?? DEFAULT_PROXY_PATH;
    this.proxyPath = `/${path.replace(/^\/+|\/+$/g, '')}`;
  }

  async getScorecard(
    entityRef: CompoundEntityRef,
  ): Promise<ScanReport | undefined> {
    const segments = [
      entityRef.kind,
      entityRef.namespace || DEFAULT_NAMESPACE,
      entityRef.name,
    ].map(segment => encodeURIComponent(segment.toLocaleLowerCase('en-US')));
    const base = await this.discoveryApi.getBaseUrl('proxy');
    const url = `${base}${this.proxyPath}/api/v1/entities/${segments.join(
      '/',
    )}/scorecard`;
    const response = await this.fetchApi.fetch(url, {
      headers: { Accept: 'application/json' },
    });
    if (response.status === 404 && isProblem(response)) {
      // The portal's own "no scanned service" answer. A 404 from anything else (e.g. no proxy
      // configured for this path) is an error to show, not an empty state.
      return undefined;
    }
    if (!response.ok) {
      throw await ResponseError.fromResponse(response);
    }
    return (await response.json()) as ScanReport;
  }
}

function isProblem(response: Response): boolean {
  const type = response.headers.get('content-type') ?? '';
  return type.split(';')[0].trim() === 'application/problem+json';
}

/** The factory of {@link PrrClient} under {@link prrApiRef}, for both frontend systems. */
export const prrApiFactory = createApiFactory({
  api: prrApiRef,
  deps: {
    configApi: configApiRef,
    discoveryApi: discoveryApiRef,
    fetchApi: fetchApiRef,
  },
  factory: ({ configApi, discoveryApi, fetchApi }) =>
    PrrClient.fromConfig(configApi, { discoveryApi, fetchApi }),
});
