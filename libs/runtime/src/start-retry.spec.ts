import { StoreUnavailable } from '@crm/event-store';
import { ReadModelStoreUnavailable } from '@crm/read-models';
import { isStoreOutage, openWaitingForStores } from './start-retry';

describe('openWaitingForStores (a projector started during a store outage)', () => {
  it('given the log times out twice, when opening, then it waits 1 s, then 2 s, and returns the third attempt', async () => {
    const waits: number[] = [];
    let attempts = 0;
    const opened = await openWaitingForStores(async () => {
      attempts++;
      if (attempts <= 2) throw new StoreUnavailable('EventStoreDB: read of $all took longer than 5000 ms');
      return 'projector';
    }, { sleep: async (ms) => { waits.push(ms); } });
    expect({ opened, attempts, waits }).toEqual({ opened: 'projector', attempts: 3, waits: [1000, 2000] });
  });

  it('given the stores stay down, when waiting, then the delay doubles up to its cap', async () => {
    const waits: number[] = [];
    let attempts = 0;
    await openWaitingForStores(async () => {
      if (++attempts <= 7) throw new ReadModelStoreUnavailable('read-model store unavailable: connect ECONNREFUSED');
      return attempts;
    }, { sleep: async (ms) => { waits.push(ms); } });
    expect(waits).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  });

  it('given a failure that is not an outage (bad configuration), when opening, then it is thrown at once', async () => {
    let attempts = 0;
    await expect(openWaitingForStores(async () => {
      attempts++;
      throw new Error('DATA_KEY_ENCRYPTION_KEY_FILE is required in production mode');
    }, { sleep: async () => undefined })).rejects.toThrow('DATA_KEY_ENCRYPTION_KEY_FILE');
    expect(attempts).toBe(1);
  });

  it('given a stop was asked while the stores are down, when the next attempt fails, then the outage is thrown', async () => {
    let attempts = 0;
    await expect(openWaitingForStores(async () => {
      attempts++;
      throw new StoreUnavailable('down');
    }, { sleep: async () => undefined, stopped: () => attempts >= 2 })).rejects.toThrow('down');
    expect(attempts).toBe(2);
  });

  it("recognises the MongoDB driver's connection failures by name, and nothing else", () => {
    const named = (name: string): Error => Object.assign(new Error('x'), { name });
    expect(['MongoServerSelectionError', 'MongoNetworkError', 'MongoNetworkTimeoutError', 'MongoServerError', 'TypeError']
      .map((n) => isStoreOutage(named(n)))).toEqual([true, true, true, false, false]);
  });
});
