import { complaintStream, customerStream, makeComplaintDecider, makeCustomerDecider, orderDecider, orderStream, DEFAULT_CONTACT_CAP_POLICY, DEFAULT_SLA_POLICY, schemaVersionOf } from '@crm/domain';
import { eventMetadataFactory, handleCommand, type EventStore } from '@crm/event-store';
import { randomUUID } from 'node:crypto';

/**
 * Writes a realistic history through the real deciders: per customer a registration, contacts, a purchase with a
 * return, a complaint with a response and a follow-up. Returns the number of commands run.
 */
export async function seedHistory(store: EventStore, customers: number, start = new Date('2026-11-01T08:00:00Z'), idPrefix = 'seed'): Promise<number> {
  const customer = makeCustomerDecider({ contactPolicy: DEFAULT_CONTACT_CAP_POLICY });
  const complaint = makeComplaintDecider({ slaPolicy: DEFAULT_SLA_POLICY });
  let t = start.getTime();
  let commands = 0;
  const eventMetadata = eventMetadataFactory({ newEventId: () => randomUUID(), schemaVersionOf });
  const run = async <C, S, E extends { type: string; data: unknown }>(
    decider: { decide(c: C, s: S, now: Date): E[]; evolve(s: S, e: E): S; initialState(): S },
    streamId: string,
    command: C,
  ): Promise<void> => {
    t += 60_000;
    const now = new Date(t);
    await handleCommand(store, decider, {
      streamId, command, now: () => now, eventMetadata,
      metadata: { correlationId: 'seed', causationId: 'seed', actor: { id: 'seeder', role: 'agent' } },
    });
    commands += 1;
  };
  for (let i = 0; i < customers; i++) {
    const id = `${idPrefix}-${i}`;
    const at = (): string => new Date(t).toISOString();
    await run(customer, customerStream(id), { type: 'RegisterCustomer', data: { customerId: id, kind: i % 3 ? 'customer' : 'prospect', name: `Customer ${i}`, ownerId: `agent-${i % 4}` } });
    for (let c = 0; c < 2; c++) {
      await run(customer, customerStream(id), { type: 'LogContact', data: { customerId: id, contactId: `${id}-c${c}`, channel: 'phone', direction: 'inbound', purpose: 'support', summary: 's', outcome: 'o', occurredAt: at(), agentId: 'seeder' } });
    }
    await run(orderDecider, orderStream(`${id}-o1`), { type: 'RecordPurchase', data: { orderId: `${id}-o1`, customerId: id, occurredAt: at(), currency: 'GBP', lines: [{ sku: 'A', description: 'a', quantity: 1 + (i % 5), unitPrice: { amount: 250 + i, scale: 2, currency: 'GBP' } }] } });
    if (i % 2 === 0) await run(orderDecider, orderStream(`${id}-o1`), { type: 'RecordReturn', data: { orderId: `${id}-o1`, returnId: `${id}-r1`, occurredAt: at(), reason: 'r', lines: [{ sku: 'A', quantity: 1 }] } });
    if (i % 3 === 0) {
      await run(complaint, complaintStream(`${id}-k1`), { type: 'FileComplaint', data: { complaintId: `${id}-k1`, customerId: id, channel: 'email', category: 'c', priority: 'P4', description: 'd', ownerId: `agent-${i % 4}`, occurredAt: at(), resolvedAtFirstContact: false } });
      await run(complaint, complaintStream(`${id}-k1`), { type: 'RespondToComplaint', data: { complaintId: `${id}-k1`, message: 'm', responderId: 'seeder', occurredAt: at() } });
      await run(customer, customerStream(id), { type: 'ScheduleFollowUp', data: { customerId: id, followUpId: `${id}-f1`, dueAt: new Date(t + 86_400_000).toISOString(), reason: 'check', actorId: 'seeder' } });
    }
  }
  return commands;
}
