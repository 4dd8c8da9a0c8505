import { z } from 'zod';

/** Body of `GET /internal/irc/status`; both sides parse it with this one schema so they cannot drift. */
export const ircStatusSchema = z.looseObject({
  /** Ascending ids of servers whose connection actor is registered on its network. */
  connections: z.array(z.number().int().positive()),
});

export type IrcStatus = z.infer<typeof ircStatusSchema>;
