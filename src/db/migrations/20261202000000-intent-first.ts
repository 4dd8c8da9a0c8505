/** Migration: wanted channels and pending wishes of servers. */
import { Migration } from '@mikro-orm/migrations';

/**
 * Intent first, converge after: a channel row says whether the operator wants it joined (`wanted`, beside
 * the observed `joined`; an existing row was wanted), and a server says since when, and why, a wish of its
 * could not be passed on to the IRC service (`pending_since`, `pending_reason`; null once passed on).
 */
export class IntentFirst extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "channels" add column "wanted" boolean not null default true;`);
    this.addSql(
      `alter table "servers" add column "pending_since" timestamptz null, add column "pending_reason" text null;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "servers" drop column "pending_reason", drop column "pending_since";`);
    this.addSql(`alter table "channels" drop column "wanted";`);
  }
}
