export interface Config {
  /** Configuration of the PRR Portal plugin. */
  prr?: {
    /**
     * Path under the Backstage proxy (`/api/proxy`) that reaches the PRR Portal.
     * Defaults to `/prr`, i.e. a `proxy.endpoints['/prr']` block.
     * @visibility frontend
     */
    proxyPath?: string;
  };
}
