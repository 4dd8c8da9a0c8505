/** Migration: the IRC service node each server is placed on. */
import { Migration } from '@mikro-orm/migrations';

/**
 * The IRC service as a cluster: `servers.irc_node` names the node (its `IRC_NODE_ID`) a server is placed on,
 * null while it is placed nowhere. Existing rows start unplaced; the reconciler adopts each live one on the
 * node that reports it, and places the others when they are wanted.
 */
export class IrcNode extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "servers" add column "irc_node" text null;`);
    this.addSql(`create index "servers_irc_node_index" on "servers" ("irc_node");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "servers_irc_node_index";`);
    this.addSql(`alter table "servers" drop column "irc_node";`);
  }
}
