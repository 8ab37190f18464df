import { mockApis, registerMswTestHooks } from '@backstage/test-utils';
import { ResponseError } from '@backstage/errors';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { readyGold } from '../__fixtures__';
import { PrrClient } from './PrrClient';

const server = setupServer();
registerMswTestHooks(server);

const BACKEND = 'http://backstage.test/api';
const SCORECARD = `${BACKEND}/proxy/prr/api/v1/entities/:kind/:namespace/:name/scorecard`;

function client(proxyPath?: string) {
  return PrrClient.fromConfig(
    mockApis.config({ data: proxyPath ? { prr: { proxyPath } } : {} }),
    {
      discoveryApi: mockApis.discovery({ baseUrl: 'http://backstage.test' }),
      fetchApi: { fetch: (input, init) => fetch(input, init) },
    },
  );
}

describe('PrrClient', () => {
  it('asks the portal through the proxy, one path segment per part of the ref', async () => {
    const seen: string[] = [];
    server.use(
      http.get(SCORECARD, ({ request }) => {
        seen.push(new URL(request.url).pathname);
        return HttpResponse.json(readyGold());
      }),
    );
    const report = await client().getScorecard({
      kind: 'Component',
      namespace: 'Team A/B',
      name: 'Cart',
    });
    expect(report?.service.ref).toBe('component:default/cart');
    expect(report?.level).toBe('gold');
    expect(seen).toEqual([
      '/api/proxy/prr/api/v1/entities/component/team%20a%2Fb/cart/scorecard',
    ]);
  });

  it('uses the default namespace and the configured proxy path', async () => {
    const seen: string[] = [];
    server.use(
      http.get(`${BACKEND}/proxy/readiness/api/v1/*`, ({ request }) => {
        seen.push(new URL(request.url).pathname);
        return HttpResponse.json(readyGold());
      }),
    );
    await client('/readiness/').getScorecard({
      kind: 'component',
      namespace: '',
      name: 'cart',
    });
    expect(seen).toEqual([
      '/api/proxy/readiness/api/v1/entities/component/default/cart/scorecard',
    ]);
  });

  it("reads the portal's problem+json 404 as never scanned", async () => {
    server.use(
      http.get(SCORECARD, () =>
        HttpResponse.json(
          { title: 'Not found', status: 404, detail: 'no scanned service' },
          {
            status: 404,
            headers: { 'Content-Type': 'application/problem+json' },
          },
        ),
      ),
    );
    await expect(
      client().getScorecard({
        kind: 'component',
        namespace: 'default',
        name: 'new',
      }),
    ).resolves.toBeUndefined();
  });

  it('throws on a 404 that is not the portal speaking (no proxy configured)', async () => {
    server.use(
      http.get(SCORECARD, () =>
        HttpResponse.json(
          { error: { name: 'NotFoundError' } },
          { status: 404 },
        ),
      ),
    );
    await expect(
      client().getScorecard({
        kind: 'component',
        namespace: 'default',
        name: 'cart',
      }),
    ).rejects.toBeInstanceOf(ResponseError);
  });

  it('throws a ResponseError when the portal is unreachable', async () => {
    server.use(
      http.get(
        SCORECARD,
        () => new HttpResponse('Bad gateway', { status: 502 }),
      ),
    );
    await expect(
      client().getScorecard({
        kind: 'component',
        namespace: 'default',
        name: 'cart',
      }),
    ).rejects.toThrow(/502/);
  });
});
