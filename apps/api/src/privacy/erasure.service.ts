import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { customerStream, PERSONAL_FIELDS } from '@crm/domain';
import { EVENT_STORE, type EventStore, type KeyStore, type RecordedEvent } from '@crm/event-store';
import {
  applyToEveryBuild, complaintsProjection, customerProfilesProjection, customerTimelineProjection, followUpsProjection,
  type ProjectionControl, READ_MODEL_STORE, type ReadModelStore,
} from '@crm/read-models';
import { CLOCK, type Clock, CUSTOMER_DECIDER, type CustomerDecider, uuidv7 } from '@crm/runtime';
import { CommandExecutor, type CommandContext, type CommandOutcome } from '../commands/command-executor';
import { ExecuteCustomerCommand } from '../customers/customer-command.handler';
import { customerTrail } from '../history/audit-trail.controller';
import { PROJECTION_RUNNER, ReadModelGate } from '../read-side/read-model-gate';

export const KEY_STORE = Symbol('KeyStore');

/** Projections whose documents hold personal data; erasure waits for them, then compacts the read-model files. */
export const MASKED = [customerProfilesProjection, customerTimelineProjection, complaintsProjection, followUpsProjection];

/** Who completes an erasure that a crash interrupted (recorded as the actor of its CustomerErased). */
export const ERASURE_RESUMER = { id: 'erasure-resume', role: 'system' } as const;

export interface ErasureOutcome {
  readonly outcome: CommandOutcome;
  readonly keyDestroyed: boolean;
  readonly fields: Record<string, string[]>;
  readonly eventsWithPersonalData: number;
  readonly streams: string[];
  readonly masked: string[];
  readonly pending: string[];
  readonly compacted: boolean;
  /** The other customers of its merge (survivor or duplicates), erased with it by the same request. */
  readonly mergedCustomersErased: string[];
}

/**
 * GDPR erasure by crypto-shredding, in three steps: destroy the customer's key, append CustomerErased, mask the read
 * models (every build: serving, building, retired) and compact their files. A crash between the first two leaves the
 * key destroyed (commands answer 410) with the read models still showing what they had projected: every start looks
 * for such subjects and completes their erasure (`resumeInterrupted`), idempotently.
 */
@Injectable()
export class ErasureService {
  private readonly logger = new Logger('Erasure');

  constructor(
    private readonly bus: CommandBus,
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore,
    @Inject(KEY_STORE) private readonly keys: KeyStore,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly gate: ReadModelGate,
    private readonly executor: CommandExecutor,
    @Inject(CUSTOMER_DECIDER) private readonly customers: CustomerDecider,
    @Optional() @Inject(PROJECTION_RUNNER) private readonly runner?: ProjectionControl,
  ) {}

  get embeddedProjector(): boolean {
    return this.runner !== undefined;
  }

  /** The whole erasure of an existing customer (the caller checked it exists). */
  async erase(customerId: string, reason: string, ctx: CommandContext): Promise<ErasureOutcome> {
    // A merged customer's history shows under its survivor, so erasing either erases both subjects (every member of
    // the merge). The others go first: a retry after a crash then finds them erased and still erases this one.
    const others = (await this.mergedWith(customerId)).filter((id) => id !== customerId);
    const mergedCustomersErased: string[] = [];
    for (const other of others) {
      const { state } = await this.executor.load(customerStream(other), this.customers);
      if (!state.exists) continue;
      mergedCustomersErased.push(other);
      if (state.erasedAt !== undefined) continue;
      const trail = await customerTrail(this.events, this.readModels, this.gate, other);
      await this.keys.erase(other, this.clock.now());
      await this.complete(other, reason, ctx, trail, true);
    }
    const trail = await customerTrail(this.events, this.readModels, this.gate, customerId);
    const keyDestroyed = await this.keys.erase(customerId, this.clock.now());
    return { ...(await this.complete(customerId, reason, ctx, trail, true)), keyDestroyed, mergedCustomersErased };
  }

  /** Every customer of the merge `customerId` is in (its survivor and the survivor's duplicates), from the log. */
  private async mergedWith(customerId: string): Promise<string[]> {
    const { state } = await this.executor.load(customerStream(customerId), this.customers);
    if (!state.exists) return [customerId];
    const survivorId = state.mergedInto ?? customerId;
    const survivor = survivorId === customerId ? state : (await this.executor.load(customerStream(survivorId), this.customers)).state;
    return [...new Set([customerId, survivorId, ...(survivor.exists ? survivor.duplicates ?? [] : [])])];
  }

  /**
   * Completes every erasure whose key is destroyed but whose CustomerErased is missing (a crash between the two).
   * Safe to run at every start and on several replicas at once: a completed erasure has its CustomerErased, and the
   * decider refuses a second one. Returns the customers whose erasure it completed.
   */
  async resumeInterrupted(): Promise<string[]> {
    const completed: string[] = [];
    for (const customerId of await this.keys.erasedSubjects()) {
      const own = await this.events.readStream(customerStream(customerId));
      if (own.length === 0 || own.some((e) => e.type === 'CustomerErased')) continue;
      try {
        // The trail waits for the streams index; a projector far behind must not keep the API from starting.
        const trail = await customerTrail(this.events, this.readModels, this.gate, customerId).catch(() => own);
        const id = uuidv7(this.clock.now().getTime());
        // No wait for the projections (a separate projector may not run yet): every build is masked in place below,
        // and each runner masks again when it reaches the CustomerErased.
        const done = await this.complete(customerId, 'erasure interrupted before it was recorded; completed at start', {
          principal: ERASURE_RESUMER, correlationId: id, causationId: id,
        }, trail, false);
        this.logger.warn({ msg: 'completed an interrupted erasure', customerId, position: done.outcome.position, readModelsPending: done.pending });
        completed.push(customerId);
      } catch (error) {
        // Another replica completing it at the same time is refused here (customer-erased or a revision conflict).
        this.logger.error({ msg: 'could not complete an interrupted erasure; retried at the next start', customerId, error: String(error) });
      }
    }
    return completed;
  }

  private async complete(
    customerId: string, reason: string, ctx: CommandContext, trail: readonly RecordedEvent[], waitForProjections: boolean,
  ): Promise<Omit<ErasureOutcome, 'keyDestroyed' | 'mergedCustomersErased'>> {
    const withPersonalData = trail.filter((e) => (PERSONAL_FIELDS[e.type] ?? []).length > 0);
    const types = new Set(withPersonalData.map((e) => e.type));
    const fields = Object.fromEntries(Object.entries(PERSONAL_FIELDS).filter(([type]) => types.has(type)).map(([t, f]) => [t, [...f]]));
    const outcome = await this.bus.execute(new ExecuteCustomerCommand({ type: 'EraseCustomer', data: { customerId, reason, fields } }, ctx));
    const masked: string[] = [];
    const pending: string[] = [];
    for (const p of MASKED) {
      try {
        await this.gate.atLeast(p, waitForProjections ? outcome.position : undefined);
        if ((await this.gate.position(p)) >= outcome.position) masked.push(p.name);
        else pending.push(p.name);
      } catch {
        pending.push(p.name);
      }
    }
    // The runners mask the builds they advance; a build replaced by a rebuild (retired, not dropped yet), an older
    // code version's, or one a runner is behind on is masked here, in place.
    const erased = (await this.events.readStream(customerStream(customerId))).find((e) => e.type === 'CustomerErased');
    let everyBuild = false;
    if (erased) {
      try {
        await applyToEveryBuild(this.readModels, MASKED, erased);
        everyBuild = true;
      } catch (error) {
        this.logger.error({ msg: 'masking every read-model build failed', customerId, error: String(error) });
      }
    }
    // Compacting only helps once every build is masked: by the runners, or in place above once the key is gone (from
    // then on no runner can write the plain values again). With a read model still pending the receipt says so.
    const compacted = everyBuild && (pending.length === 0 || !waitForProjections) ? await this.readModels.compact() : false;
    return {
      outcome, fields, eventsWithPersonalData: withPersonalData.length, streams: [...new Set(trail.map((e) => e.streamId))], masked, pending, compacted,
    };
  }
}
