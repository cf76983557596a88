export * from './clock';
export * from './config';
export * from './metrics';
export * from './policies';
export * from './projector-host';
export * from './sla-watcher';
export * from './uuidv7';
export * from './composition';
