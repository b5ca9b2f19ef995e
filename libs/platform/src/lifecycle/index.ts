export * from './component';
export * from './lifecycle';
