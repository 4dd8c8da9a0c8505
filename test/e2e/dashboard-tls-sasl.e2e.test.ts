/**
 * TLS and SASL settings from the dashboard, for real: PostgreSQL, the IRC service and the web side as processes,
 * the page in headless Chromium, and a scripted IRC server over TLS with a self-signed certificate that asks for
 * SASL PLAIN. An operator adds the server with the defaults (its certificate is refused, the reason on the card),
 * then edits it to tlsVerify off and SASL PLAIN: the connection registers with those credentials, the API reports
 * the settings without their secrets, and the form never shows the password.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../support/browser.ts';
import { lacks } from '../support/requirements.ts';
import { type ScriptedIrcServer, saslScript, startScriptedIrcServer } from '../support/scripted-irc-server.ts';
import { makeSelfSignedCertificate } from '../support/self-signed-certificate.ts';
import { type System, startSystem } from '../support/system.ts';

const SASL_PASSWORD = 'dashboard-sasl-hunter2';

describe.skipIf(lacks('ngircd', 'chromium', 'openssl'))('dashboard: TLS and SASL settings, end to end', () => {
  let system: System;
  let ircServer: ScriptedIrcServer;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  let serverId: number;
  /** The PLAIN payloads the IRC server received (decoded: account, account, password). */
  const payloads: Array<string | undefined> = [];

  beforeAll(async () => {
    const certificate = await makeSelfSignedCertificate();
    ircServer = await startScriptedIrcServer(
      saslScript((payload) => {
        payloads.push(payload);
        return payload === `bot\0bot\0${SASL_PASSWORD}`;
      }),
      { tls: certificate },
    );
    system = await startSystem();
    browser = await launchBrowser();
    page = await browser.context.newPage();
    await page.goto(system.web.url);
  });

  afterAll(async () => {
    await browser?.close();
    await system?.dispose();
    await ircServer?.dispose();
  });

  const card = () => page.locator(`[data-testid="server"][data-server-id="${serverId}"]`);
  const editForm = () => card().locator('[data-testid="edit-form"]');

  /** `GET /api/servers/:id`: the answer as sent, and parsed. */
  async function serverView() {
    const text = await (await fetch(`${system.web.url}/api/servers/${serverId}`)).text();
    return { text, view: JSON.parse(text) };
  }

  it('adds a TLS server with the defaults: verification on, no SASL; its self-signed certificate is refused, the reason on the card', async () => {
    const form = page.locator('[data-testid="add-server"]');
    expect(await form.locator('input[name="tlsVerify"]').isChecked()).toBe(true);
    expect(await form.locator('select[name="saslMechanism"]').inputValue()).toBe('');
    expect(await form.locator('input[name="saslRequired"]').isChecked()).toBe(true);
    await form.locator('input[name="name"]').fill('Secure net');
    await form.locator('input[name="host"]').fill(ircServer.host);
    await form.locator('input[name="port"]').fill(String(ircServer.port));
    await form.locator('input[name="tls"]').check();
    await form.locator('input[name="nickname"]').fill('secure');
    await form.locator('button[type="submit"]').click();
    await page.locator('[data-testid="server"]').first().waitFor();
    serverId = Number(await page.locator('[data-testid="server"]').first().getAttribute('data-server-id'));

    await card().locator('[data-testid="connect"]').click();

    await expect
      .poll(() => card().locator('[data-testid="failure"]').textContent(), { timeout: 10_000 })
      .toMatch(/self-signed certificate/);
    expect(await card().locator('[data-testid="security"]').textContent()).toBe('TLS verified');
    expect((await serverView()).view).toMatchObject({ tls: true, tlsVerify: true, sasl: null, hasSaslPassword: false });
  });

  it('edits it to tlsVerify off and SASL PLAIN: registered with those credentials, the API reports them without the password', async () => {
    await card().locator('[data-testid="edit"]').click();
    await editForm().locator('input[name="tlsVerify"]').uncheck();
    // the account and password boxes matter to PLAIN only
    expect(await editForm().locator('input[name="saslAccount"]').isVisible()).toBe(false);
    await editForm().locator('select[name="saslMechanism"]').selectOption('PLAIN');
    await editForm().locator('input[name="saslAccount"]').fill('bot');
    await editForm().locator('input[name="saslPassword"]').fill(SASL_PASSWORD);
    await editForm().locator('[data-testid="save"]').click();

    await expect
      .poll(() => card().locator('[data-testid="server-state"]').textContent(), { timeout: 10_000 })
      .toBe('connected');
    expect(payloads).toContain(`bot\0bot\0${SASL_PASSWORD}`);
    expect(await editForm().isVisible()).toBe(false);
    expect(await card().locator('[data-testid="security"]').textContent()).toBe(
      'TLS not verified · SASL PLAIN as bot (password set) · required',
    );
    const { text, view } = await serverView();
    expect(view).toMatchObject({
      tlsVerify: false,
      sasl: { mechanism: 'PLAIN', account: 'bot' },
      hasSaslPassword: true,
      saslRequired: true,
      failure: null,
    });
    expect(text).not.toContain(SASL_PASSWORD);
  });

  it('never shows the password: the form opens with an empty box that says one is set, and the page holds it nowhere', async () => {
    await card().locator('[data-testid="edit"]').click();

    const password = editForm().locator('input[name="saslPassword"]');
    expect(await password.inputValue()).toBe('');
    expect(await password.getAttribute('placeholder')).toBe('set (unchanged)');
    expect(await password.getAttribute('type')).toBe('password');
    expect(await editForm().locator('input[name="saslAccount"]').inputValue()).toBe('bot');
    expect(await editForm().locator('input[name="tlsVerify"]').isChecked()).toBe(false);
    expect(await page.content()).not.toContain(SASL_PASSWORD);
  });

  it('a changed SASL account without the password typed again is refused beside the password box, nothing sent', async () => {
    await editForm().locator('input[name="saslAccount"]').fill('other');
    const accepted = ircServer.accepted;

    await editForm().locator('[data-testid="save"]').click();

    await expect
      .poll(() => editForm().locator('[data-field-error="sasl.password"]').textContent())
      .toMatch(/^sasl\.password: type the SASL password/);
    expect((await serverView()).view.sasl).toEqual({ mechanism: 'PLAIN', account: 'bot' });
    expect(ircServer.accepted).toBe(accepted);
  });
});
