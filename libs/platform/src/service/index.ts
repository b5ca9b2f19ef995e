export * from './service-definition';
export * from './service-context';
export * from './start-service';
export * from './run-service';
export * from './migrate-service';
export * from './dependency-unavailable';
export * from './service-events';
