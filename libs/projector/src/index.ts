export * from './projector-host';
export * from './sla-watcher';
