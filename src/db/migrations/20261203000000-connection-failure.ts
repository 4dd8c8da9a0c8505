/** Migration: why, and since when, a server's connection is `failed`. */
import { Migration } from '@mikro-orm/migrations';

/**
 * A connection the IRC service gave up on (banned, password refused, no acceptable nickname) is not reconnected
 * by anyone but the operator: the server row keeps the reason (`failure_reason`) and the time (`failed_at`),
 * both null once it registers again.
 */
export class ConnectionFailure extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "servers" add column "failure_reason" text null, add column "failed_at" timestamptz null;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "servers" drop column "failed_at", drop column "failure_reason";`);
  }
}
