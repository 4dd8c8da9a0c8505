/** The `irc_nodes` table: what the operator asked of an IRC service node (a drain); its health lives in memory. */
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';

export const IrcNodeRecord = defineEntity({
  name: 'IrcNodeRecord',
  tableName: 'irc_nodes',
  properties: {
    /** Its `IRC_NODE_ID`. */
    name: p.text().primary(),
    /** Since when it is draining: nothing new is placed on it and its servers are moved away; null when not. */
    drainingSince: p.datetime().columnType('timestamptz').nullable(),
    /** Why the drain's last move from it was given up (the server stayed); null once a move succeeds. */
    drainProblem: p.text().nullable(),
  },
});

export type IrcNodeRecord = InferEntity<typeof IrcNodeRecord>;
