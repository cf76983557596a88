import { Controller, Get, Inject } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { EVENT_STORE, type EventStore } from '@crm/event-store';
import { Public } from '../auth/principal';
import { problems } from '../http/problem';

@ApiTags('operations')
@Controller('health')
@Public()
export class HealthController {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(): Promise<{ status: 'ok'; eventStore: { headPosition: number } }> {
    try {
      return { status: 'ok', eventStore: { headPosition: await this.store.headPosition() } };
    } catch (error) {
      throw problems.storeUnavailable(`event store: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
