import { schemaVersionOf } from '@crm/domain';
import { eventMetadataFactory, type EventMetadataFactory } from '@crm/event-store';
import { uuidv7 } from './uuidv7';

const newUuidv7 = (now: Date): string => uuidv7(now.getTime());

/**
 * Event metadata as every writer of this system makes it (the API, the importer, the SLA watcher): time-ordered event
 * ids and the domain's current schema version of each event type. Tests may inject the ids.
 */
export function domainEventMetadata(newEventId: (now: Date) => string = newUuidv7): EventMetadataFactory {
  return eventMetadataFactory({ newEventId, schemaVersionOf });
}
