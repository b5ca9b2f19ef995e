export * from './schedule-definition';
export * from './scheduler';
