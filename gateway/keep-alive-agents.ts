import http from 'node:http';
import https from 'node:https';

/**
 * Keep-alive agents for one module's calls to other gateways, one per protocol, made at their
 * first use rather than when the module loads (a microVM image's startup snapshot evaluates
 * every module and cannot hold an Agent's sockets state: machines/drivers/microvm/snapshot.ts).
 */
export function keepAliveAgents(maxSockets = 64): (secure: boolean) => http.Agent {
  let plain: http.Agent | undefined;
  let tls: https.Agent | undefined;
  return (secure) => (secure ? (tls ??= new https.Agent({ keepAlive: true, maxSockets })) : (plain ??= new http.Agent({ keepAlive: true, maxSockets })));
}
