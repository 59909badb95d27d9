/**
 * Forwarding an S3 request to another region of the cluster, as a streaming reverse proxy to
 * one of its internal URLs (a gateway serves S3 on the same port). The request goes out as it
 * came: method, target (path and query) and every header as received, Host included, so the
 * client's own signature (SigV4 covers the host) verifies there, where the same keys live.
 * Only the loop guard and this region's request id are added (the other region answers and
 * logs under that id, so the client sees one id whichever region served it). Bodies stream
 * both ways under back-pressure (pipe), so a 5 GiB part is never held here. The response
 * comes back as the other region wrote it and names the region that served it.
 *
 * Each of the region's internal URLs is tried in turn until one accepts the connection; a
 * region none of whose URLs does gets `503 ServiceUnavailable` naming it. Requests go over
 * kept-alive connections, so a forward does not pay a handshake with the other region each
 * time (a consistent PUT across 100 ms of round trip: one round trip, not two). A pooled
 * connection is let go after 30 s idle, well before the other side's keep-alive timeout (65 s)
 * would close it under a request; one found closed anyway (the other gateway restarted) is
 * tried again on a fresh connection when the request has no body, and is a 503 when body
 * bytes were already taken from the client.
 *
 * What the forward adds (the loop guard, this region's request id) is signed with the cluster
 * secret (forward-auth.ts), so the other region trusts it and a client cannot fake it. A
 * target may ask for an answer deadline: the other region must answer (or say 100 Continue)
 * within it once the whole request is sent, or the client gets the 503. A partition that
 * accepts connections and then drops everything is found that way, not after the idle timeout.
 */
import http, { type ClientRequest, type IncomingMessage, type OutgoingHttpHeader, type ServerResponse } from 'node:http';
import https from 'node:https';
import { keepAliveAgents } from '../keep-alive-agents.js';
import type { Socket } from 'node:net';
import { regionInfo, type Topology } from '../../replication/topology.js';
import { sendContinue } from '../continue.js';
import { S3Error } from '../errors.js';
import { writeError } from '../respond.js';
import { forwardHeaders, isForwardHeader } from './forward-auth.js';
import { FORWARDED_FROM, SERVED_BY_REGION } from './upload-owner.js';

export interface ForwardTarget {
  region: string;
  /** this gateway's id for the request (its 503 carries it) */
  requestId: string;
  /** what belongs to the region, for the 503's message; default 'This request' */
  subject?: string;
  /** the whole 503 message when the region cannot be reached or does not answer (instead of one made of `subject`) */
  unreachable?: string;
  /** instead of the forwarder's own connect timeout */
  connectTimeoutMs?: number;
  /**
   * once the request is sent, an answer that has not begun within this long has the region
   * pinged (on a connection of its own, given `pingTimeoutMs` to answer): a region that answers
   * the ping is only slow and is waited for again; one that does not is given up (a 503).
   * Default: only the idle timeout.
   */
  probeAfterMs?: number;
  /** default 10 s */
  pingTimeoutMs?: number;
  /** 'home': the region serves the bucket as its home (the receiver waits for that to arrive: forward/arrival.ts) */
  route?: 'home';
}

export type RegionForward = (req: IncomingMessage, res: ServerResponse, target: ForwardTarget) => Promise<void>;

export interface ForwardOptions {
  /** a URL that has not accepted the connection by then is given up; default 5 s */
  connectTimeoutMs?: number;
  /** a forwarded exchange in which nothing moves this long is cut; default 5 min */
  idleTimeoutMs?: number;
  log?: (line: string) => void;
}

/** response headers of one connection only (RFC 9110 §7.6.1): the client's connection has its own */
const HOP_BY_HOP: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']);

/** `again`: a kept-alive connection was found closed before anything was answered; try a fresh one */
type Attempt = { connected: false; why: string; again?: boolean } | { connected: true };

/** the other side closed the connection (a kept-alive one it had let go of) */
function closedUnderUs(err: Error): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ECONNRESET' || code === 'EPIPE';
}

/** a request with no body to stream: it can be sent twice */
function bodyless(req: IncomingMessage): boolean {
  const m = req.method ?? 'GET';
  return (m === 'GET' || m === 'HEAD' || m === 'DELETE') && req.headers['transfer-encoding'] === undefined && Number(req.headers['content-length'] ?? 0) === 0;
}

export function createRegionForwarder(topology: Topology, opts: ForwardOptions = {}): RegionForward {
  const connectMs = opts.connectTimeoutMs ?? 5_000;
  const idleMs = opts.idleTimeoutMs ?? 5 * 60_000;
  // idle pooled sockets do not keep the process alive (the agent unrefs them)
  // no cap on sockets: a request queued in the agent would look like a region not connecting
  const pool = keepAliveAgents({ timeout: 30_000 });

  return async (req, res, target) => {
    const failures: string[] = [];
    const resend = bodyless(req);
    for (const base of regionInfo(topology, target.region)?.internal ?? []) {
      const url = new URL(base);
      const agent = pool.agentFor(url.protocol === 'https:');
      let a = await attempt(url, req, res, target, topology, target.connectTimeoutMs ?? connectMs, idleMs, agent, resend);
      if (!a.connected && a.again) a = await attempt(url, req, res, target, topology, target.connectTimeoutMs ?? connectMs, idleMs, undefined, resend);
      if (a.connected) return;
      failures.push(`${base}: ${a.why}`);
    }
    opts.log?.(`forwarding ${req.method} ${req.url} to region ${target.region} failed: ${failures.join('; ') || 'no internal URL'}`);
    // the body stays unread: the connection closes after the answer
    if (!req.complete) res.setHeader('connection', 'close');
    const subject = target.subject ?? 'This request';
    const message = target.unreachable ?? `${subject} belongs to region ${target.region}, which cannot be reached now.`;
    const err = new S3Error('ServiceUnavailable', message, { Region: target.region });
    writeError(res, err, target.requestId, req.url ?? '/', req.method === 'HEAD');
  };
}

/** the request's headers as received, plus the loop guard and the signed forward headers (none of them the client's) */
function forwardedHeaders(req: IncomingMessage, topology: Topology, requestId: string, route?: 'home'): OutgoingHttpHeader[] {
  const out: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (!isForwardHeader(req.rawHeaders[i]!)) out.push(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  }
  return [...out, FORWARDED_FROM, topology.self, ...forwardHeaders(topology.secret, topology.self, req.method ?? 'GET', req.url ?? '/', requestId, route)];
}

function attempt(
  url: URL,
  req: IncomingMessage,
  res: ServerResponse,
  target: ForwardTarget,
  topology: Topology,
  connectMs: number,
  idleMs: number,
  agent: http.Agent | undefined,
  /** no body: sent with end(), and may be sent again */
  resend: boolean,
): Promise<Attempt> {
  const secure = url.protocol === 'https:';
  return new Promise<Attempt>((resolve) => {
    let connected = false;
    let settled = false;
    const settle = (a: Attempt) => {
      if (!settled) resolve(a);
      settled = true;
    };
    const up: ClientRequest = (secure ? https : http).request({
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port,
      method: req.method,
      path: req.url,
      // an array: sent as is (case, order, repeats), and node adds no Host of its own
      headers: forwardedHeaders(req, topology, target.requestId, target.route) as unknown as http.OutgoingHttpHeaders,
      agent: agent ?? false,
    });
    const connectTimer = setTimeout(() => up.destroy(new Error(`no connection within ${connectMs} ms`)), connectMs);
    up.once('socket', (socket: Socket) => {
      if (socket.connecting) socket.once(secure ? 'secureConnect' : 'connect', onConnected);
      else onConnected();
    });
    // armed while the request is all sent (or waits for 100 Continue) and nothing has come back
    let answerTimer: NodeJS.Timeout | undefined;
    const awaitAnswer = () => {
      const ms = target.probeAfterMs;
      const pingMs = target.pingTimeoutMs ?? 10_000;
      if (ms === undefined || answer) return;
      clearTimeout(answerTimer);
      answerTimer = setTimeout(() => {
        void answersPing(url, pingMs).then((alive) => {
          if (answer || up.destroyed) return;
          if (alive) awaitAnswer();
          else up.destroy(new Error(`no answer within ${ms} ms, nor to a ping within ${pingMs} ms more`));
        });
      }, ms);
    };
    const answered = () => clearTimeout(answerTimer);
    up.once('finish', awaitAnswer);
    up.once('close', answered);
    up.on('error', (err) => {
      clearTimeout(connectTimer);
      if (!connected) return settle({ connected: false, why: err.message });
      // a kept-alive connection the other side had closed: nothing was sent that counts, send it again
      // (not a deadline of ours running out: the region got the request and said nothing)
      if (resend && up.reusedSocket && closedUnderUs(err) && !answer && !res.headersSent && !res.destroyed) return settle({ connected: false, why: err.message, again: true });
      settle({ connected: true });
      // a whole answer was relayed (what follows is the other side closing), or nobody listens any more
      if (answer?.complete || res.destroyed) return;
      // connected, then lost: answer if nothing was answered yet, else cut the client off
      if (!res.headersSent) {
        if (!req.complete) res.setHeader('connection', 'close');
        const message = target.unreachable ? `${target.unreachable} (${err.message})` : `Region ${target.region} failed while serving this request: ${err.message}`;
        writeError(res, new S3Error('ServiceUnavailable', message, { Region: target.region }), target.requestId, req.url ?? '/', req.method === 'HEAD');
      } else res.destroy();
    });

    function onConnected(): void {
      clearTimeout(connectTimer);
      connected = true;
      up.setTimeout(idleMs, () => {
        // a response paused by its slow reader is not a region that stalled
        if (answer?.isPaused() && !answer.complete) return void up.setTimeout(idleMs);
        up.destroy(new Error(`nothing moved for ${idleMs} ms`));
      });
      // the client going away ends the forwarded exchange too
      res.once('close', () => {
        if (settled) return;
        if (!res.writableFinished) up.destroy(new Error('the client went away'));
        settle({ connected: true });
      });
      // a client that goes away mid-body: its 'close' above ends the exchange
      req.on('error', () => undefined);
      if (expectsContinue(req)) {
        // the other region says 100 Continue once it accepted the request; the client hears it then
        up.flushHeaders();
        awaitAnswer();
        up.once('continue', () => {
          answered();
          sendContinue(req);
          req.pipe(up);
        });
      } else if (resend) up.end(); // no body (and one that may be sent a second time)
      else req.pipe(up);
    }

    let answer: IncomingMessage | undefined;
    const appended = new Set<string>();
    up.once('response', (ans: IncomingMessage) => {
      answer = ans;
      answered();
      ans.on('error', () => undefined); // a cut answer is handled on its 'close'
      // an answer before the whole body came (a refusal): the client's connection cannot be reused
      if (!req.complete) res.setHeader('connection', 'close');
      for (let i = 0; i < ans.rawHeaders.length; i += 2) {
        const name = ans.rawHeaders[i]!;
        if (HOP_BY_HOP.has(name.toLowerCase())) continue;
        // the other region's header replaces one set here (x-erne-served-by, CORS)
        if (res.hasHeader(name) && !appended.has(name.toLowerCase())) res.removeHeader(name);
        appended.add(name.toLowerCase());
        res.appendHeader(name, ans.rawHeaders[i + 1]!);
      }
      // passed on by the control region (forward/bucket-route.ts): the answer names the region that served it
      if (!res.hasHeader(SERVED_BY_REGION)) res.setHeader(SERVED_BY_REGION, target.region);
      res.writeHead(ans.statusCode ?? 502, ans.statusMessage);
      ans.once('close', () => {
        // the other region cut its answer short: so is the client's
        if (!ans.complete) return void res.destroy();
        // answered before the whole body was sent (a refusal): the rest of it is not wanted
        if (!up.writableFinished) {
          req.unpipe(up);
          up.destroy();
        }
      });
      ans.pipe(res);
    });
  });
}

/**
 * Whether a region's gateway answers at all: any HTTP answer to an unsigned GET of an internal
 * path (a refusal, at once, touching nothing) shows it is up and reachable.
 */
function answersPing(url: URL, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const ping = (url.protocol === 'https:' ? https : http).get(new URL('/.erne/internal/ping', url), { agent: false }, (r) => {
      r.resume();
      resolve(true);
    });
    ping.setTimeout(timeoutMs, () => ping.destroy(new Error('timeout')));
    ping.once('error', () => resolve(false));
  });
}

function expectsContinue(req: IncomingMessage): boolean {
  return (req.headers.expect ?? '').toLowerCase() === '100-continue';
}
