import { SpanKind, type Link } from '@opentelemetry/api';
import { failed, spanContextOf, tracer } from '@crm/event-store';
import type { ProjectedEvent } from '../projection/projection';

/** Links and correlation ids kept per span: a catch-up batch holds thousands of events, a span needs a sample. */
const MAX_LINKS = 32;

/**
 * One span per applied batch of one projection. A batch mixes events of many requests, so it is not the child of any
 * of them: it links to the append spans whose trace context the events carry (`metadata.traceparent`) and names their
 * correlation ids, which is how an operator goes from a request's trace to the projection work it caused.
 */
export async function tracedBatch<T>(projection: string, generation: number, page: readonly ProjectedEvent[], work: () => Promise<T>): Promise<T> {
  const span = tracer.startSpan(`project ${projection}`, {
    kind: SpanKind.CONSUMER,
    attributes: {
      'crm.projection.name': projection,
      'crm.projection.generation': generation,
      'crm.event.count': page.length,
      'crm.log.position.from': page[0]?.position ?? 0,
      'crm.log.position.to': page.at(-1)?.position ?? 0,
    },
  });
  // Untraced (the default), the no-op span records nothing: skip the pass over the batch.
  if (span.isRecording()) {
    const { links, correlationIds } = originsOf(page);
    span.addLinks(links);
    span.setAttribute('crm.correlation_ids', correlationIds);
  }
  try {
    return await work();
  } catch (error) {
    failed(span, error);
    throw error;
  } finally {
    span.end();
  }
}

function originsOf(page: readonly ProjectedEvent[]): { links: Link[]; correlationIds: string[] } {
  const links: Link[] = [];
  const correlationIds = new Set<string>();
  const seen = new Set<string>();
  for (const event of page) {
    const traceparent = event.metadata['traceparent'];
    const correlationId = event.metadata['correlationId'];
    if (typeof correlationId === 'string' && correlationIds.size < MAX_LINKS) correlationIds.add(correlationId);
    if (links.length >= MAX_LINKS || typeof traceparent !== 'string' || seen.has(traceparent)) continue;
    seen.add(traceparent);
    const context = spanContextOf(traceparent);
    if (context) links.push({ context, attributes: { 'crm.correlation_id': typeof correlationId === 'string' ? correlationId : '' } });
  }
  return { links, correlationIds: [...correlationIds] };
}
