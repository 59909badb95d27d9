/**
 * A stand-in for another region's internal endpoint: an HTTP server on loopback that checks
 * the cluster signature and the body hash as a gateway does, records the changes it is sent
 * and answers what the test tells it to.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Change } from '../../metadata/changes.js';
import { NonceWindow, verifyClusterRequest } from '../../replication/cluster-auth.js';
import { decodeApplyBody } from '../../replication/wire.js';
import { CLUSTER_SECRET } from './cluster.js';

export interface FakeRegion {
  url: string;
  /** changes received with a good signature, in arrival order */
  received: Change[];
  /** requests received, however answered */
  requests: number;
  /** the status the next requests get (204 applies) */
  answer: number;
  close(): Promise<void>;
}

export async function startFakeRegion(): Promise<FakeRegion> {
  const nonces = new NonceWindow();
  const region: FakeRegion = { url: '', received: [], requests: 0, answer: 204, close: async () => undefined };
  const server = http.createServer((req, res) => {
    region.requests++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const auth = verifyClusterRequest(CLUSTER_SECRET, req.method ?? '', req.url ?? '', req.headers, nonces);
      const hash = createHash('sha256').update(body).digest('hex');
      if (!auth.ok || auth.bodySha256 !== hash) return void res.writeHead(401).end(auth.ok ? 'body' : auth.reason);
      if (region.answer !== 204) return void res.writeHead(region.answer).end(`told to answer ${region.answer}`);
      region.received.push(...decodeApplyBody(body));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  region.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  region.close = () => new Promise((resolve) => server.close(() => resolve()).closeAllConnections());
  return region;
}
