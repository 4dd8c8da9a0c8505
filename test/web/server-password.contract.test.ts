/**
 * The IRC server password across the wire: a password the servers API saves always connects (the real IRC
 * service app answers the PUT), and one the IRC service would refuse is refused by the web side, naming the field.
 */
import { describe, expect, it } from 'vitest';
import { connectionFieldSchemas } from '../../src/shared/irc-service-contract.ts';
import { webToIrcService } from './web-to-irc-service.ts';

/** The longest password the IRC service takes, read from the contract so the test follows the limit. */
const MAX_PASSWORD = connectionFieldSchemas.password.maxLength ?? Number.NaN;

describe('an IRC server password, web side to IRC service', () => {
  const wire = webToIrcService();

  const newServer = (password: string) => ({
    name: 'Secret net',
    host: 'irc.secret.example',
    port: 6697,
    tls: true,
    nickname: 'watcher',
    password,
    autoconnect: true,
  });

  it('a password of the longest length the web side accepts connects', async () => {
    wire.forwardToIrcService();
    const password = 'p'.repeat(MAX_PASSWORD);

    const created = await wire.json('POST', '/api/servers', newServer(password));
    await wire.reconciler.settled();

    expect(created.status).toBe(201);
    const { id } = await created.json();
    expect(await wire.registeredIds()).toContain(id);
    expect(wire.opened.at(-1)?.settings).toMatchObject({ host: 'irc.secret.example', password });
    expect(await (await wire.app.request(`/api/servers/${id}`)).json()).toMatchObject({ pending: null });
  });

  it.each([
    ['one past the IRC service limit', MAX_PASSWORD + 1],
    ['the old web limit plus one', 256],
  ])('refuses a password %s (%i characters) with a 400 naming password, writing nothing', async (_label, length) => {
    const before = await wire.serverCount();

    const response = await wire.json('POST', '/api/servers', newServer('p'.repeat(length)));

    expect(response.status).toBe(400);
    expect((await response.json()).error).toMatchObject({ field: 'password' });
    expect(await wire.serverCount()).toBe(before);
  });

  it('refuses a too long password on an edit too, keeping the saved one', async () => {
    wire.forwardToIrcService();
    const created = await wire.json('POST', '/api/servers', { ...newServer('kept'), autoconnect: false });
    const { id } = await created.json();

    const response = await wire.json('PATCH', `/api/servers/${id}`, { password: 'p'.repeat(MAX_PASSWORD + 1) });

    expect(response.status).toBe(400);
    expect((await response.json()).error).toMatchObject({ field: 'password' });
    const [row] = await wire.db.query<{ password: string }>('select password from servers where id = $1', [id]);
    expect(row?.password).toBe('kept');
  });
});
