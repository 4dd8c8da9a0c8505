import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type ChildSpec,
  ChildStartError,
  OneForOneSupervisor,
  type SupervisedProcess,
} from '../../src/process/supervisor.ts';

let nextPid = 100;

/** A child process that exits when told to (or when killed), and records the signals it got. */
class FakeProcess extends EventEmitter implements SupervisedProcess {
  readonly pid = nextPid++;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  readonly signals: NodeJS.Signals[] = [];
  constructor(private readonly events: string[]) {
    super();
  }
  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    this.signals.push(signal);
    this.events.push(`kill ${this.pid} ${signal}`);
    queueMicrotask(() => this.exit(signal === 'SIGTERM' ? 0 : null, signal === 'SIGTERM' ? null : signal));
    return true;
  }
  exit(code: number | null, signal: NodeJS.Signals | null = null): void {
    if (this.exitCode !== null || this.signalCode !== null) return;
    this.exitCode = code;
    this.signalCode = signal;
    this.emit('exit', code, signal);
  }
}

function fakeChild(name: string, events: string[], readiness: () => boolean = () => true) {
  const started: FakeProcess[] = [];
  const spec: ChildSpec<FakeProcess> = {
    name,
    start: () => {
      const child = new FakeProcess(events);
      started.push(child);
      events.push(`start ${name}`);
      return child;
    },
    ready: async () => readiness(),
  };
  return { spec, started, current: () => started.at(-1)! };
}

describe('OneForOneSupervisor', () => {
  let events: string[];
  let lines: string[];
  let gaveUp: string[];
  let supervisor: OneForOneSupervisor;
  beforeEach(() => {
    vi.useFakeTimers();
    events = [];
    lines = [];
    gaveUp = [];
    supervisor = new OneForOneSupervisor({
      log: (line) => lines.push(line),
      onGiveUp: (line) => gaveUp.push(line),
      now: () => Date.now(),
    });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('restarts only the child that exited, after 250 ms doubling up to the cap', async () => {
    const irc = fakeChild('IRC service', events);
    const web = fakeChild('web side', events);
    await supervisor.startChild(irc.spec);
    await supervisor.startChild(web.spec);
    const webPid = web.current().pid;

    const delays: number[] = [];
    for (let restart = 0; restart < 5; restart++) {
      const before = irc.started.length;
      irc.current().exit(null, 'SIGKILL');
      const exitedAt = Date.now();
      while (irc.started.length === before) await vi.advanceTimersByTimeAsync(10);
      delays.push(Date.now() - exitedAt);
    }

    expect(delays).toEqual([250, 500, 1000, 2000, 4000]);
    expect(web.started).toHaveLength(1);
    expect(web.current().pid).toBe(webPid);
    expect(lines[0]).toBe('the IRC service exited (SIGKILL); restarting it in 250 ms');
    expect(lines).toContainEqual(
      expect.stringMatching(/^the IRC service is serving again \(pid \d+, \d+ ms after restart\)$/),
    );
    expect(gaveUp).toEqual([]);
  });

  it('gives up with one line after more than 5 restarts within 60 s', async () => {
    const irc = fakeChild('IRC service', events);
    await supervisor.startChild(irc.spec);

    for (let exits = 0; exits < 6; exits++) {
      irc.current().exit(1);
      await vi.advanceTimersByTimeAsync(5_000);
    }

    expect(irc.started).toHaveLength(6);
    expect(gaveUp).toEqual(['the IRC service exited (code 1) after 5 restarts within 60 s; giving up']);
  });

  it('forgets restarts older than the window, and caps the backoff at 5 s', async () => {
    const capped = new OneForOneSupervisor({
      policy: { maxRestarts: 10 },
      log: (line) => lines.push(line),
      onGiveUp: (line) => gaveUp.push(line),
    });
    const irc = fakeChild('IRC service', events);
    await capped.startChild(irc.spec);
    for (let exits = 0; exits < 6; exits++) {
      irc.current().exit(1);
      await vi.advanceTimersByTimeAsync(5_000);
    }
    expect(lines.at(-2)).toBe('the IRC service exited (code 1); restarting it in 5000 ms');

    await vi.advanceTimersByTimeAsync(60_000);
    irc.current().exit(1);

    expect(lines.at(-1)).toBe('the IRC service exited (code 1); restarting it in 250 ms');
    expect(gaveUp).toEqual([]);
  });

  it('stops the children in reverse order of start, and restarts none of them', async () => {
    const db = fakeChild('embedded PostgreSQL', events);
    const irc = fakeChild('IRC service', events);
    const web = fakeChild('web side', events);
    for (const child of [db, irc, web]) await supervisor.startChild(child.spec);

    await supervisor.stop();
    await vi.advanceTimersByTimeAsync(10_000);

    expect(events.filter((event) => event.startsWith('kill'))).toEqual([
      `kill ${web.current().pid} SIGTERM`,
      `kill ${irc.current().pid} SIGTERM`,
      `kill ${db.current().pid} SIGTERM`,
    ]);
    expect(events.filter((event) => event.startsWith('start'))).toHaveLength(3);
  });

  it('cancels a pending restart when stopped', async () => {
    const irc = fakeChild('IRC service', events);
    await supervisor.startChild(irc.spec);
    irc.current().exit(null, 'SIGKILL');

    await supervisor.stop();
    await vi.advanceTimersByTimeAsync(10_000);

    expect(irc.started).toHaveLength(1);
  });

  it('fails the first start of a child that exits before it serves, without restarting it', async () => {
    const web = fakeChild('web side', events, () => false);
    const attempt = supervisor.startChild({
      ...web.spec,
      ready: async (child) => {
        child.exit(1);
        return false;
      },
    });

    await expect(attempt).rejects.toThrow(new ChildStartError('the web side exited during start (code 1)'));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(web.started).toHaveLength(1);
  });

  it('kills a restarted child that hangs before serving, which counts as one more restart', async () => {
    let serves = true;
    const irc = fakeChild('IRC service', events, () => serves);
    await supervisor.startChild(irc.spec);
    serves = false;
    irc.current().exit(null, 'SIGKILL');

    await vi.advanceTimersByTimeAsync(250);
    await vi.advanceTimersByTimeAsync(0);

    expect(irc.started).toHaveLength(2);
    expect(irc.started[1]!.signals).toEqual(['SIGKILL']);
    expect(lines.at(-1)).toBe('the IRC service exited (SIGKILL); restarting it in 500 ms');
  });
});
