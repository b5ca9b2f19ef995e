export * from './well-formed-text';
export * from './well-formed-json';
export * from './decimal-integer';
