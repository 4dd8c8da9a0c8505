/** Migration: each server's TLS verification, pinned fingerprint, client certificate and SASL settings. */
import { Migration } from '@mikro-orm/migrations';

/**
 * Certificates are verified unless `tls_verify` is false; `tls_fingerprint` pins one. `client_key` and
 * `sasl_password` are secrets, kept like `password` (never selected for an answer, never logged). Existing rows
 * keep connecting as before, now with verified certificates.
 */
export class TlsSasl extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "servers"
      add column "tls_verify" boolean not null default true,
      add column "tls_fingerprint" text null,
      add column "client_certificate" text null,
      add column "client_key" text null,
      add column "sasl_mechanism" text null,
      add column "sasl_account" text null,
      add column "sasl_password" text null,
      add column "sasl_required" boolean not null default true;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "servers"
      drop column "tls_verify", drop column "tls_fingerprint", drop column "client_certificate",
      drop column "client_key", drop column "sasl_mechanism", drop column "sasl_account",
      drop column "sasl_password", drop column "sasl_required";`);
  }
}
