/** Migration: draining IRC service nodes, and the move of a server in progress. */
import { Migration } from '@mikro-orm/migrations';

/**
 * A drain outlives a web restart and is shared by every web instance: `irc_nodes` holds a row per node an
 * operator drained (`draining_since`, null again once undrained), and why its last move was given up
 * (`drain_problem`, null once a move succeeds). `servers.moving_to` names the node a server is
 * being moved to (make-before-break), from `moving_since`: the new connection there is not fenced, and the move
 * is given up when it lasts too long (its web instance died).
 */
export class NodeDrain extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "irc_nodes" ("name" text not null, "draining_since" timestamptz null,
      "drain_problem" text null, constraint "irc_nodes_pkey" primary key ("name"));`);
    this.addSql(`alter table "servers" add column "moving_to" text null, add column "moving_since" timestamptz null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "servers" drop column "moving_to", drop column "moving_since";`);
    this.addSql(`drop table "irc_nodes";`);
  }
}
