export * from './http-problem';
export * from './zod-problem';
export * from './http-metrics';
export * from './request-context-middleware';
export * from './problem-middleware';
export * from './create-http-service';
export * from './http-server';
export * from './bearer-token-auth';
