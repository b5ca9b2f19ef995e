export * from './well-formed-text';
