export * from './store/read-model-store.port';
export * from './sqlite/sqlite-read-model-store';
export * from './store/errors';
export * from './mongodb/mongo-read-model-store';
export * from './projection/projection';
export * from './runner/event-feed';
export * from './runner/projection-runner';
export * from './projections';
