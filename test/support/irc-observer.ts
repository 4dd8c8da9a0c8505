/**
 * A second, bare IRC client for end-to-end tests: it sits on the network and watches what the
 * service does (its QUIT, its JOINs) the way another user would. Raw lines over a socket, so tests
 * do not depend on irc-framework (only src/irc-service/irc-client.actor.ts does).
 */
import { connect, type Socket } from 'node:net';
import { Watched } from './watched.ts';

export interface IrcObserver {
  readonly nickname: string;
  /** Every line received so far. */
  readonly lines: string[];
  send(line: string): void;
  /** Joins and resolves once the server has sent the channel's names. */
  join(channel: string): Promise<void>;
  /** Resolves with the first line received (from the start) that matches. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  close(): void;
}

export async function connectObserver(
  server: { host: string; port: number },
  nickname: string,
  timeoutMs = 5_000,
): Promise<IrcObserver> {
  const socket: Socket = connect({ host: server.host, port: server.port });
  socket.setEncoding('utf8');
  const lines: string[] = [];
  const received = new Watched();
  let buffered = '';
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\r\n');
    buffered = parts.pop() ?? '';
    for (const line of parts) {
      // answer the server's keep-alive so the observer is not dropped in a long test
      if (line.startsWith('PING ')) socket.write(`PONG ${line.slice(5)}\r\n`);
      lines.push(line);
    }
    received.changed();
  });
  socket.on('error', () => {});

  const waitForLine = (pattern: RegExp, timeout = timeoutMs) =>
    received.until(
      () => lines.find((candidate) => pattern.test(candidate)),
      timeout,
      () => `observer ${nickname} saw no ${pattern}:\n${lines.join('\n')}`,
    );

  const send = (line: string) => socket.write(`${line}\r\n`);
  send(`NICK ${nickname}`);
  send(`USER ${nickname} 0 * :observer`);
  await waitForLine(new RegExp(`^:\\S+ 001 ${nickname} `));

  return {
    nickname,
    lines,
    send,
    async join(channel) {
      send(`JOIN ${channel}`);
      await waitForLine(new RegExp(`^:\\S+ 366 ${nickname} ${channel.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `, 'i'));
    },
    waitForLine,
    close() {
      socket.destroy();
    },
  };
}
