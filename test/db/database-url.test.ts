/** The database URL `npm start` prints: the embedded one without its password, an operator's with it masked. */
import { describe, expect, it } from 'vitest';
import { withoutPassword, withPasswordMasked } from '../../src/db/database-url.ts';

describe('the database URL as printed', () => {
  it("masks the password of an operator's DATABASE_URL and keeps the rest", () => {
    expect(withPasswordMasked('postgres://app:s3cr%40t@db.example:5432/irc?sslmode=require')).toBe(
      'postgres://app:***@db.example:5432/irc?sslmode=require',
    );
    expect(withPasswordMasked('postgres://postgres@127.0.0.1:5432/postgres')).toBe(
      'postgres://postgres@127.0.0.1:5432/postgres',
    );
  });

  it("leaves the embedded cluster's password out of its address", () => {
    expect(withoutPassword('postgres://postgres:postgres@127.0.0.1:45123/irc_supervisor')).toBe(
      'postgres://postgres@127.0.0.1:45123/irc_supervisor',
    );
  });
});
