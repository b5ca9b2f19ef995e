export * from './fake-partner';
