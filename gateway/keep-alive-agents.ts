import http from 'node:http';
import https from 'node:https';

/** Keep-alive agents for calls to other gateways, one per protocol. */
export interface KeepAliveAgents {
  /** the agent for an https: (secure) or http: URL, made at its first use */
  agentFor(secure: boolean): http.Agent;
  /** closes the connections kept alive */
  destroy(): void;
}

/**
 * Made at their first use rather than when the caller is made: a module-level pair would exist
 * as soon as its module loads, and a microVM image's startup snapshot evaluates every module
 * and cannot hold an Agent (machines/drivers/microvm/snapshot.ts).
 */
export function keepAliveAgents(options: http.AgentOptions = { maxSockets: 64 }): KeepAliveAgents {
  const opts = { ...options, keepAlive: true };
  let plain: http.Agent | undefined;
  let tls: https.Agent | undefined;
  return {
    agentFor: (secure) => (secure ? (tls ??= new https.Agent(opts)) : (plain ??= new http.Agent(opts))),
    destroy() {
      plain?.destroy();
      tls?.destroy();
    },
  };
}
