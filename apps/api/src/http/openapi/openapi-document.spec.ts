import { Controller, Get, Post, Query } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { ApiQuery, ApiTags } from '@nestjs/swagger';
import { Test } from '@nestjs/testing';
import { incompleteOperations } from '../../../../../test/support/openapi-completeness';
import { Public, Roles } from '../../auth/principal';
import { ApiCommand, ApiIntQuery, ApiOk, ApiProblems } from './api-decorators';
import { CommandResultDto } from './common-responses.dto';
import { buildOpenApiDocument } from './openapi-document';

@ApiTags('widgets')
@Controller('widgets')
@Roles('agent', 'admin')
@ApiProblems('store-unavailable')
class WidgetsController {
  @Post()
  @ApiCommand({ ifMatch: false }) @ApiProblems('customer-not-found') @ApiProblems('contact-cap-exceeded')
  create(): CommandResultDto {
    return { id: 'w', streamRevision: 0, position: 1 };
  }

  @Get('ping')
  @Public()
  @ApiOk(CommandResultDto)
  ping(): CommandResultDto {
    return { id: 'w', streamRevision: 0, position: 1 };
  }

  @Get('mine')
  @Roles('customer')
  @ApiOk(CommandResultDto) @ApiIntQuery('limit', { min: 1, max: 10, default: 5 })
  mine(@Query('limit') _limit?: string): CommandResultDto {
    return { id: 'w', streamRevision: 0, position: 1 };
  }

  /** A route described as the routes were before issue 17: the completeness check must name it and what it lacks. */
  @Get('forgotten')
  @ApiQuery({ name: 'size', required: false })
  forgotten(@Query('size') _size: string | undefined): unknown {
    return {};
  }
}

interface Op {
  security: unknown[];
  'x-roles'?: string[];
  responses: Record<string, { 'x-problem-types'?: string[]; headers?: Record<string, unknown> }>;
}

describe('OpenAPI document building', () => {
  let app: NestFastifyApplication;
  let paths: Record<string, Record<string, Op>>;
  let document: Record<string, unknown>;

  beforeAll(async () => {
    const module = await Test.createTestingModule({ controllers: [WidgetsController] }).compile();
    app = module.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
    await app.init();
    document = buildOpenApiDocument(app) as unknown as Record<string, unknown>;
    paths = document['paths'] as typeof paths;
  });
  afterAll(async () => app.close());

  it('adds up problem types from the controller and the route, grouped by status, with Retry-After where due', () => {
    const create = paths['/widgets']?.['post'];
    expect(create?.responses['404']?.['x-problem-types']).toEqual(['customer-not-found']);
    expect(create?.responses['422']?.['x-problem-types']).toEqual(['append-refused', 'contact-cap-exceeded', 'idempotency-key-reused']);
    expect(create?.responses['503']?.['x-problem-types']).toEqual(['store-unavailable']);
    expect(Object.keys(create?.responses['503']?.headers ?? {})).toEqual(['Retry-After']);
    expect(create?.responses['401']?.['x-problem-types']).toEqual(['unauthorized']);
  });

  it('takes security and roles from the guard metadata: public, the route over the controller', () => {
    expect(paths['/widgets/ping']?.['get']?.security).toEqual([]);
    expect(paths['/widgets/ping']?.['get']?.['x-roles']).toBeUndefined();
    expect(paths['/widgets/ping']?.['get']?.responses['401']).toBeUndefined();
    expect(paths['/widgets']?.['post']?.['x-roles']).toEqual(['agent', 'admin']);
    expect(paths['/widgets/mine']?.['get']?.['x-roles']).toEqual(['customer']);
    expect(paths['/widgets/mine']?.['get']?.security).toEqual([{ bearer: [] }]);
  });

  it('names the route that lacks a success schema or a typed query parameter', () => {
    expect(incompleteOperations(document)).toEqual([
      'GET /widgets/forgotten: lacks a 2xx response with a schema',
      'GET /widgets/forgotten: query parameter size has an empty schema',
    ]);
  });
});
