export * from './health-types';
export * from './health-registry';
export * from './health-routes';
