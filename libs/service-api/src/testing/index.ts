export * from './fake-partner';
export * from './service-api-validators';
