import { parseVerifyArgs } from './args';

describe('audit:verify arguments', () => {
  it.each([
    [['export.ndjson'], { file: 'export.ndjson', publicKeyFile: undefined }],
    [['export.ndjson', '--public-key', 'key.pem'], { file: 'export.ndjson', publicKeyFile: 'key.pem' }],
    [['--public-key', 'key.pem', 'export.ndjson'], { file: 'export.ndjson', publicKeyFile: 'key.pem' }],
  ])('%j → %j', (argv, expected) => {
    expect(parseVerifyArgs(argv)).toEqual(expected);
  });

  it.each([
    [[]],
    [['--public-key', 'key.pem']],
    [['export.ndjson', '--public-key']],
    [['export.ndjson', '--public-key', '--other']],
    [['export.ndjson', 'second.ndjson']],
    [['export.ndjson', '--unknown']],
    [['export.ndjson', '--public-key', 'a.pem', '--public-key', 'b.pem']],
  ])('%j → usage', (argv) => {
    expect(parseVerifyArgs(argv)).toBeUndefined();
  });
});
