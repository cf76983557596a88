/** The input cannot be imported at all (unreadable file, not the expected columns, broken CSV): exit code 2. */
export class ImportInputError extends Error {
  override readonly name = 'ImportInputError';
}
