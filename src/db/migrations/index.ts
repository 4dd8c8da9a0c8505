/** The migrations the migrator runs, listed explicitly. */
import type { MigrationObject } from '@mikro-orm/core';
import { InitialSchema } from './20261129000000-initial-schema.ts';
import { IntentFirst } from './20261202000000-intent-first.ts';
import { ConnectionFailure } from './20261203000000-connection-failure.ts';
import { IrcNode } from './20261203010000-irc-node.ts';
import { TlsSasl } from './20261203020000-tls-sasl.ts';
import { NodeDrain } from './20261203030000-node-drain.ts';

/** Every migration, in order. A new migration is added here as well as in this folder. */
export const migrationsList: MigrationObject[] = [
  { name: '20261129000000-initial-schema', class: InitialSchema },
  { name: '20261202000000-intent-first', class: IntentFirst },
  { name: '20261203000000-connection-failure', class: ConnectionFailure },
  { name: '20261203010000-irc-node', class: IrcNode },
  { name: '20261203020000-tls-sasl', class: TlsSasl },
  { name: '20261203030000-node-drain', class: NodeDrain },
];
