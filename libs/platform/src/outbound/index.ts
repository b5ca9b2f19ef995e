export * from './read-limited-body';
export * from './outbound-url-policy';
export * from './partner-security';
