/**
 * Which requests the admin API takes: /.erne/admin/… on the gateway's own host; with
 * --domain, the same path on <bucket>.<domain> is an object key of that bucket, as S3 reads it.
 */
import { describe, expect, it } from 'vitest';
import { useGateway } from '../../helpers/gateway.js';
import { rawRequest } from '../../helpers/raw.js';

describe('the admin API route', () => {
  const t = useGateway({ domain: 'localhost', bucket: 'vh-admin' });

  it('answers /.erne/admin/ on the bare host, and leaves bucket.DOMAIN/.erne/admin/… to S3', async () => {
    const host = (h: string) => `${h}:${new URL(t.gw.url).port}`;
    const api = await rawRequest(t.gw, { method: 'GET', path: '/.erne/admin/cluster', host: host('localhost') });
    expect(api.status, api.text).toBe(200);
    expect(JSON.parse(api.text)).toEqual({ region: 'us-east-1', regions: ['us-east-1'] });
    const put = await rawRequest(t.gw, { method: 'PUT', path: '/.erne/admin/keys', host: host(`${t.bucket}.localhost`), body: 'an object' });
    expect(put.status, put.text).toBe(200);
    const get = await rawRequest(t.gw, { method: 'GET', path: '/.erne/admin/keys', host: host(`${t.bucket}.localhost`) });
    expect(get.text).toBe('an object');
  });

  it('names an unknown resource or method only to a root key', async () => {
    const unsigned = await rawRequest(t.gw, { method: 'GET', path: '/.erne/admin/nothing-here', creds: null });
    expect(unsigned.status).toBe(403);
    const missing = await rawRequest(t.gw, { method: 'GET', path: '/.erne/admin/nothing-here' });
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.text)).toEqual({ error: { code: 'NotFound', message: 'no admin resource /.erne/admin/nothing-here' } });
    const wrong = await rawRequest(t.gw, { method: 'PUT', path: '/.erne/admin/keys', body: '{}' });
    expect(wrong.status).toBe(405);
    const notJson = await rawRequest(t.gw, { method: 'POST', path: '/.erne/admin/keys', body: '[1,2]' });
    expect(notJson.status).toBe(400);
    expect(JSON.parse(notJson.text).error).toEqual({ code: 'InvalidArgument', message: 'the request body must be a JSON object' });
    const badType = await rawRequest(t.gw, { method: 'POST', path: '/.erne/admin/keys', body: JSON.stringify({ root: 'yes' }) });
    expect(JSON.parse(badType.text).error).toEqual({ code: 'InvalidArgument', message: 'root: expected a boolean' });
  });
});
