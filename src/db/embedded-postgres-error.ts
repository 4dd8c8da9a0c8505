/** The start error of an embedded PostgreSQL that cannot run. */
import { StartError } from '../process/start-error.ts';

/** Why the embedded PostgreSQL cannot start; its message is one line an operator can act on. */
export class EmbeddedPostgresError extends StartError {
  override name = 'EmbeddedPostgresError';
}
