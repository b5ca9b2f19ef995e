export * from './read-limited-body';
export * from './outbound-url-policy';
export * from './partner-security';
export * from './fetch-failure-reason';
