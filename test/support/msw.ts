/** The msw server that tests of HTTP clients share. */
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll } from 'vitest';

/**
 * The IRC service's batch PUT (`PUT /internal/irc/connections`, a hand-over of many connections), answered from
 * the test's own handlers of the single PUT: each entry is sent on to `PUT …/connections/:serverId`, and the
 * answers are put together as the IRC service does (a 4xx other than 401 is that entry's refusal; a 401 or a 5xx
 * fails the whole request, as a wrong token or a node that is down would). So a test mocks one route and sees every connect there.
 */
const batchConnections = http.put(/\/internal\/irc\/connections$/, async ({ request }) => {
  const { connections } = (await request.json()) as { connections: Array<{ serverId: number }> };
  // side by side, as the IRC service takes them
  const responses = await Promise.all(
    connections.map(({ serverId, ...body }) =>
      fetch(`${request.url}/${serverId}`, { method: 'PUT', headers: request.headers, body: JSON.stringify(body) }),
    ),
  );
  const failed = responses.find((response) => response.status === 401 || response.status >= 500);
  if (failed) return failed;
  const answers = await Promise.all(
    responses.map(async (response, index) => {
      const serverId = connections[index]!.serverId;
      const body = (await response.json().catch(() => ({}))) as { outcome?: string; error?: { message?: string } };
      if (response.ok) return { serverId, outcome: body.outcome ?? 'started' };
      return { serverId, error: { message: body.error?.message ?? `status ${response.status}` } };
    }),
  );
  return HttpResponse.json({ connections: answers }, { status: 202 });
});

/** The msw server of a test file that imports it: any request the test did not expect fails it. */
export const mswServer = setupServer(batchConnections);

beforeAll(() => mswServer.listen({ onUnhandledRequest: 'error' }));
afterEach(() => mswServer.resetHandlers());
afterAll(() => mswServer.close());
