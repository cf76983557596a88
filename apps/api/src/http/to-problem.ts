import { HttpException } from '@nestjs/common';
import { DomainError } from '@crm/domain';
import {
  AppendTooLarge, describeStorageFault, InvalidAppend, StoreUnavailable, storageFaultOf, StreamVersionConflict, SubjectErased,
} from '@crm/event-store';
import { ReadModelStoreUnavailable } from '@crm/read-models';
import { DOMAIN_ERROR_HTTP } from './domain-error-map';
import { ApiProblem, problems } from './problem';

interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  message?: string;
}

function isFastifyError(e: unknown): e is FastifyLikeError {
  return typeof e === 'object' && e !== null && typeof (e as FastifyLikeError).code === 'string' &&
    (e as FastifyLikeError).code!.startsWith('FST_');
}

/**
 * Maps anything thrown while serving a request to a problem. Unknown errors become a 500 without any
 * detail of the cause (the cause is logged by the filter, never sent).
 */
export function toProblem(exception: unknown): ApiProblem {
  if (exception instanceof ApiProblem) return exception;
  if (exception instanceof DomainError) {
    const mapped = DOMAIN_ERROR_HTTP[exception.code];
    return new ApiProblem(mapped.status, exception.code, mapped.title, exception.message, { ...exception.details });
  }
  if (exception instanceof StreamVersionConflict) {
    return problems.concurrencyConflict(`Stream ${exception.streamId} changed concurrently`);
  }
  if (exception instanceof StoreUnavailable || exception instanceof ReadModelStoreUnavailable) {
    return problems.storeUnavailable(exception.message);
  }
  if (exception instanceof AppendTooLarge) return problems.appendTooLarge(exception.maxBytes);
  if (exception instanceof InvalidAppend) return problems.appendRefused(exception.reason);
  if (exception instanceof SubjectErased) {
    return new ApiProblem(410, 'customer-erased', 'Customer was erased', 'No personal data may be recorded for an erased customer');
  }
  if (isFastifyError(exception)) return fromFastify(exception);
  if (exception instanceof HttpException) return fromHttpException(exception);
  if (exception instanceof SyntaxError) return problems.malformedJson(exception.message);
  // A store that let SQLite's or the file system's error through (a full disk, a lock held past the busy timeout):
  // still the store's failure, to be retried, never a 500.
  const fault = storageFaultOf(exception);
  if (fault) return problems.storeUnavailable(describeStorageFault(fault));
  return problems.internal();
}

function fromFastify(e: FastifyLikeError): ApiProblem {
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return problems.malformedJson(e.message ?? 'invalid JSON');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiProblem(413, 'payload-too-large', 'The body is too large', e.message ?? 'body too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return problems.unsupportedMediaType(e.message ?? 'unsupported media type');
    default:
      if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
        return new ApiProblem(e.statusCode, 'bad-request', 'Bad request', e.message ?? 'bad request');
      }
      return problems.internal();
  }
}

function fromHttpException(e: HttpException): ApiProblem {
  const status = e.getStatus();
  const cause: unknown = e.cause;
  if (cause && isFastifyError(cause)) return fromFastify(cause);
  if (status === 404) {
    // Nest's own not-found handler for unmatched routes says "Cannot GET /path".
    const route = /^Cannot (\w+) (.*)$/.exec(e.message);
    return route ? problems.routeNotFound(route[1] ?? '') : problems.notFound('not-found', e.message);
  }
  if (status === 413) return new ApiProblem(413, 'payload-too-large', 'The body is too large', e.message);
  // Nest wraps Fastify's body-parser errors into plain HttpExceptions and keeps only the message.
  if (status === 400 && /JSON/i.test(e.message)) return problems.malformedJson(e.message);
  if (status === 415) return problems.unsupportedMediaType(e.message);
  if (status === 400) return problems.badRequest(e.message);
  if (status >= 500) return problems.internal();
  return new ApiProblem(status, 'http-error', e.message, e.message);
}
