export * from './event-store.port';
export * from './errors';
export * from './catch-up-subscription';
export * from './in-memory/in-memory-event-store';
export * from './sqlite/sqlite-event-store';
export * from './eventstoredb/eventstoredb-event-store';
export * from './command-handling/handle-command';
export * from './upcasting/upcasting-event-store';
