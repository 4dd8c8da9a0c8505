/**
 * A scripted IRC server on loopback for tests of what a real server may answer that ngircd will not
 * (a K-line's ERROR line, a ban's 465): it waits for a client's NICK and USER, sends the lines the test
 * scripted for that nickname, and closes the socket when told to.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { freePort } from '../../src/process/free-port.ts';

export interface RegistrationAnswer {
  /** Lines to send, without CR LF. */
  lines: string[];
  /** Close the socket after sending them (as after an ERROR line). */
  close: boolean;
}

export interface ScriptedIrcServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startScriptedIrcServer(
  answer: (nickname: string) => RegistrationAnswer,
): Promise<ScriptedIrcServer> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let received = '';
    let answered = false;
    socket.on('data', (chunk) => {
      received += chunk.toString();
      const nickname = /^NICK (\S+)/m.exec(received)?.[1];
      if (answered || !nickname || !/^USER /m.test(received)) return;
      answered = true;
      const { lines, close } = answer(nickname);
      const text = lines.map((line) => `${line}\r\n`).join('');
      if (close) socket.end(text);
      else socket.write(text);
    });
  });
  const port = await freePort();
  await new Promise<void>((ready) => server.listen(port, '127.0.0.1', ready));
  return {
    host: '127.0.0.1',
    port,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((done) => server.close(done));
    },
  };
}
