// The IFTTT Service API's shared vocabulary (../shared/reference/ifttt/service-api.yaml).
export * from './step-fields';
export * from './placeholders';
