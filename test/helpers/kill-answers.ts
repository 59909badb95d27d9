/**
 * What the client workers of a SIGKILL test heard. Before the kill every request must
 * succeed: any error then is unexpected. After the kill the expected failures are the ones a
 * dying server causes on the client's side (connection refused or reset, a response cut off);
 * an error the server answered with (an HTTP status) is unexpected then too. Everything
 * unexpected is kept with the request that got it, so the test can fail showing the answers.
 */

export interface Answer {
  request: string;
  /** the error as a client sees it: S3 code/HTTP status or the socket error */
  answer: string;
  afterKill: boolean;
}

function describe(err: unknown): string {
  const e = err as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  return [e.name, e.code, status === undefined ? undefined : `HTTP ${status}`, e.message].filter(Boolean).join(' ');
}

/** an error response of the server (as opposed to the connection failing under the client) */
function answeredWithError(err: unknown): boolean {
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return status !== undefined && status >= 300;
}

export class KillAnswers {
  private killed = false;
  /** requests cut off by the kill, by how they failed (e.g. "ECONNREFUSED": 12) */
  readonly cutOff = new Map<string, number>();
  readonly unexpected: Answer[] = [];

  /** call just before sending SIGKILL: from then on connection failures are expected */
  killing(): void {
    this.killed = true;
  }

  /** a request failed; returns whether it was expected (the worker may stop either way) */
  failed(request: string, err: unknown): boolean {
    if (this.killed && !answeredWithError(err)) {
      const e = err as { code?: string; name?: string };
      const kind = e.code ?? e.name ?? 'Error';
      this.cutOff.set(kind, (this.cutOff.get(kind) ?? 0) + 1);
      return true;
    }
    this.unexpected.push({ request, answer: describe(err), afterKill: this.killed });
    return false;
  }

  /** a request answered with something other than success (e.g. a DeleteObjects per-key error) */
  wrong(request: string, answer: string): void {
    this.unexpected.push({ request, answer, afterKill: this.killed });
  }

  /** how the requests cut off by the kill failed, for the test's log line */
  cutOffSummary(): string {
    return [...this.cutOff].map(([k, n]) => `${n}× ${k}`).join(', ') || 'none';
  }

  /** the unexpected answers, one per line, for a failure message */
  report(): string {
    return this.unexpected.map((a) => `${a.afterKill ? 'after' : 'before'} the kill: ${a.request} -> ${a.answer}`).join('\n');
  }
}
