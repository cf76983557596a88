import { loadConfig } from './config';

describe('loadConfig: where the projections run (PROJECTOR)', () => {
  it('runs them in a worker thread of the API process by default, as npm start does', () => {
    expect(loadConfig({}).projector).toBe('thread');
    expect(loadConfig({ PROJECTOR: '' }).projector).toBe('thread');
  });

  it.each(['thread', 'embedded', 'off'] as const)('accepts PROJECTOR=%s', (mode) => {
    expect(loadConfig({ PROJECTOR: mode }).projector).toBe(mode);
  });

  it('refuses anything else, naming the accepted values', () => {
    expect(() => loadConfig({ PROJECTOR: 'worker' })).toThrow('PROJECTOR must be thread, embedded or off, got "worker"');
  });
});
