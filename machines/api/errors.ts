/**
 * Every refusal of the Machines API, answered as Fly answers: a status and a JSON body
 * `{"error": "…"}` whose text says what was wrong.
 */
export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 404 | 408 | 409 | 412 | 422 | 500,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const notFound = (what: string) => new ApiError(404, `${what} not found`);
export const badRequest = (why: string) => new ApiError(400, why);
