/** `GET /api/machines/:name`: a state machine's graph and Mermaid text, generated from its definition, for the dashboard's live diagrams. */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { documentedMachines } from '../../../machines/index.ts';
import { type MachineGraph, machineGraph, machineToMermaid } from './machine-diagram.ts';

/** A machine named as its file is (`machines/irc-connection.machine.ts` → `irc-connection`). */
const machineName = (file: string) => file.replace(/^machines\//, '').replace(/\.machine\.ts$/, '');

/**
 * The machines' diagrams come from the definitions the processes run, computed once at start, so the
 * page can never show a hand-kept copy that drifted.
 */
export function machinesRoutes(): Hono {
  const diagrams = new Map<string, MachineGraph & { name: string; title: string; mermaid: string }>(
    documentedMachines.map(({ title, file, machine }) => [
      machineName(file),
      { name: machineName(file), title, ...machineGraph(machine), mermaid: machineToMermaid(machine) },
    ]),
  );
  const routes = new Hono();
  routes.get('/api/machines', (c) =>
    c.json({ machines: [...diagrams.values()].map(({ name, title }) => ({ name, title })) }),
  );
  routes.get('/api/machines/:name', (c) => {
    const diagram = diagrams.get(c.req.param('name'));
    if (!diagram) throw new HTTPException(404, { message: `no machine named ${c.req.param('name')}` });
    return c.json(diagram);
  });
  return routes;
}
