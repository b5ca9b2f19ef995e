// The Service API's field vocabulary lives in @ittd/service-api; the domain uses its types.
export type { LocationValue, StepFields } from '@ittd/service-api';
