/** One entry of a Marathon 422 answer: the JSON path of the field and what is wrong with it. */
export interface MarathonValidationDetail {
  path: string;
  errors: string[];
}

/**
 * A Marathon, Chronos or Metronome call answered with an unexpected status. Carries the method, the path
 * (never the base URL's credentials nor the token) and the body the server sent, for the failure message.
 *
 * @example
 * try { await client.getApp('/ittd/production/applets/web'); }
 * catch (error) { if (error instanceof ApiError && error.status === 404) ... }
 */
export class ApiError extends Error {
  override readonly name: string = 'ApiError';

  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly body: unknown,
    message = `${method} ${path} answered ${status}${bodyMessage(body)}`,
  ) {
    super(message);
  }
}

/**
 * 409 from `PUT /v2/apps/{id}`: the app is locked by running deployments (their ids are in `deploymentIds`).
 * Wait for them, or send the PUT again with `force=true` to override them.
 *
 * @example
 * if (error instanceof AppLockedError) console.log(error.deploymentIds); // ['5ed4c0c5-...']
 */
export class AppLockedError extends ApiError {
  override readonly name = 'AppLockedError';

  constructor(
    method: string,
    path: string,
    body: unknown,
    readonly deploymentIds: string[],
  ) {
    super(
      method,
      path,
      409,
      body,
      `${method} ${path}: locked by deployment${deploymentIds.length === 1 ? '' : 's'} ${deploymentIds.join(', ') || '(none listed)'}`,
    );
  }
}

/**
 * 422 from Marathon or Metronome: the definition is not valid. The message lists every path and error,
 * one a line, as Marathon's `details` gives them.
 *
 * @example
 * error.details; // [{ path: '/upgradeStrategy/minimumHealthCapacity', errors: ['error.range.max'] }]
 */
export class InvalidDefinitionError extends ApiError {
  override readonly name = 'InvalidDefinitionError';

  constructor(
    method: string,
    path: string,
    body: unknown,
    readonly details: MarathonValidationDetail[],
  ) {
    super(
      method,
      path,
      422,
      body,
      [
        `${method} ${path}: ${bodyMessage(body).replace(/^: /, '') || 'invalid definition'}`,
        ...details.map((d) => `  ${d.path || '/'}: ${d.errors.join('; ')}`),
      ].join('\n'),
    );
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function bodyMessage(body: unknown): string {
  if (isRecord(body) && typeof body.message === 'string') return `: ${body.message}`;
  if (typeof body === 'string' && body.trim() !== '') return `: ${body.trim().slice(0, 500)}`;
  return '';
}

/** Reads `details` of a 422 body; tolerates Metronome's `{ path, errors }` and Marathon's shape alike. */
function validationDetails(body: unknown): MarathonValidationDetail[] {
  if (!isRecord(body) || !Array.isArray(body.details)) return [];
  return body.details.filter(isRecord).map((d) => ({
    path: typeof d.path === 'string' ? d.path : '',
    errors: Array.isArray(d.errors) ? d.errors.map(String) : [],
  }));
}

/** Reads the ids of the `deployments` array of a 409 body. */
function lockingDeployments(body: unknown): string[] {
  if (!isRecord(body) || !Array.isArray(body.deployments)) return [];
  return body.deployments
    .filter(isRecord)
    .map((d) => d.id)
    .filter((id): id is string => typeof id === 'string');
}

/**
 * The typed error for a failed answer: {@link AppLockedError} for a 409 listing deployments,
 * {@link InvalidDefinitionError} for a 422, {@link ApiError} otherwise.
 *
 * @example
 * throw apiErrorFor('PUT', '/v2/apps/x', 422, { message: 'Object is not valid', details: [] });
 */
export function apiErrorFor(method: string, path: string, status: number, body: unknown): ApiError {
  if (status === 409 && isRecord(body) && Array.isArray(body.deployments)) {
    return new AppLockedError(method, path, body, lockingDeployments(body));
  }
  if (status === 422) return new InvalidDefinitionError(method, path, body, validationDetails(body));
  return new ApiError(method, path, status, body);
}
