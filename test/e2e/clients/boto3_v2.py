"""boto3 signing with Signature Version 2 (botocore's 's3' signer), one step at a time.

Driven by boto3-v2.test.ts with Debian's /usr/bin/python3 (python3-boto3). Usage:
    boto3_v2.py ENDPOINT BUCKET V4ONLY_ENDPOINT     (keys in ERNE_ACCESS_KEY / ERNE_SECRET_KEY)
Prints one JSON object per line: {"step", "ok", "error"?, "response"?}. Each step touches the
sub-resources S3 signs in v2 (acl, uploads/uploadId/partNumber, tagging, versioning/versions/
versionId, delete, response-*), v2 presigned URLs and a v2 presigned POST. V4ONLY_ENDPOINT is a
gateway that takes SigV4 only: there the same client must get S3's refusal.
"""
import json
import os
import sys
import urllib.error
import urllib.request
import uuid

import boto3
import botocore
from botocore.exceptions import ClientError

from boto3_steps import check, client, md5, step

MiB = 1024 * 1024
endpoint, bucket, v4only = sys.argv[1], sys.argv[2], sys.argv[3]


def v2_client(url):
    return client(url, "s3")


def fix_auth_path(request, **kw):
    """Debian's botocore 1.29 leaves the URI template's query ('?versioning', '?list-type=2') in the
    auth path of bucket calls, so its v2 signer signs '/b?versioning?versioning' (AWS refuses that
    too). Later botocore strips it and signs a bare bucket as '/b/'; this does the same, and
    nothing when the auth path is already clean."""
    path = getattr(request, "auth_path", None)
    if path and "?" in path:
        path = path.split("?")[0]
        request.auth_path = path + "/" if path.count("/") == 1 else path


s3 = v2_client(endpoint)
s3.meta.events.register_first("before-sign.s3", fix_auth_path)
signed_with = []
# every request this client sends must carry a v2 Authorization header or v2 query parameters
s3.meta.events.register("before-send.s3", lambda request, **kw: signed_with.append(request.headers.get("Authorization", b"")))








def fetch(url, data=None, method="GET", headers=None):
    """(status, body) of a request with no credentials; HTTP errors are answers too"""
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def create_bucket():
    s3.create_bucket(Bucket=bucket)
    check(bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]], "bucket not listed")


def put_get_head():
    data = os.urandom(3000)
    r = s3.put_object(Bucket=bucket, Key="dir/a file ü.bin", Body=data, ContentType="application/x-a", Metadata={"city": "Zurich"})
    check(r["ETag"] == f'"{md5(data)}"', f"ETag {r['ETag']}")
    g = s3.get_object(Bucket=bucket, Key="dir/a file ü.bin")
    check(md5(g["Body"].read()) == md5(data), "bytes differ")
    check(s3.head_object(Bucket=bucket, Key="dir/a file ü.bin")["ContentType"] == "application/x-a", "content type")
    o = s3.get_object(Bucket=bucket, Key="dir/a file ü.bin", ResponseContentType="text/x-override")
    check(o["ContentType"] == "text/x-override", f"response-content-type gave {o['ContentType']}")


def list_and_copy():
    for i in range(5):
        s3.put_object(Bucket=bucket, Key=f"list/{i}.txt", Body=b"x")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="list/", PaginationConfig={"PageSize": 2})
    check([o["Key"] for p in pages for o in p.get("Contents", [])] == [f"list/{i}.txt" for i in range(5)], "listing")
    s3.copy_object(Bucket=bucket, Key="list/copy.txt", CopySource={"Bucket": bucket, "Key": "list/0.txt"})
    check(s3.get_object(Bucket=bucket, Key="list/copy.txt")["Body"].read() == b"x", "copy")


def multipart():
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp/big.bin")["UploadId"]
    a, b = os.urandom(5 * MiB), os.urandom(1234)
    parts = [{"PartNumber": n, "ETag": s3.upload_part(Bucket=bucket, Key="mp/big.bin", UploadId=up, PartNumber=n, Body=d)["ETag"]} for n, d in ((1, a), (2, b))]
    check(len(s3.list_parts(Bucket=bucket, Key="mp/big.bin", UploadId=up)["Parts"]) == 2, "list_parts")
    r = s3.complete_multipart_upload(Bucket=bucket, Key="mp/big.bin", UploadId=up, MultipartUpload={"Parts": parts})
    check(r["ETag"].endswith('-2"'), f"ETag {r['ETag']}")
    check(md5(s3.get_object(Bucket=bucket, Key="mp/big.bin")["Body"].read()) == md5(a + b), "bytes differ")
    gone = s3.create_multipart_upload(Bucket=bucket, Key="mp/aborted.bin")["UploadId"]
    s3.abort_multipart_upload(Bucket=bucket, Key="mp/aborted.bin", UploadId=gone)


def acl_and_tagging():
    s3.put_object(Bucket=bucket, Key="acl/pub.txt", Body=b"public")
    check(fetch(f"{endpoint}/{bucket}/acl/pub.txt")[0] == 403, "readable before the ACL")
    s3.put_object_acl(Bucket=bucket, Key="acl/pub.txt", ACL="public-read")
    grants = s3.get_object_acl(Bucket=bucket, Key="acl/pub.txt")["Grants"]
    check(any(g["Grantee"].get("URI", "").endswith("/AllUsers") for g in grants), f"grants {grants}")
    check(fetch(f"{endpoint}/{bucket}/acl/pub.txt") == (200, b"public"), "anonymous read after public-read")
    s3.put_object_tagging(Bucket=bucket, Key="acl/pub.txt", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    check(s3.get_object_tagging(Bucket=bucket, Key="acl/pub.txt")["TagSet"] == [{"Key": "k", "Value": "v"}], "tags")


def versioning():
    vb = bucket + "-v"
    s3.create_bucket(Bucket=vb)
    s3.put_bucket_versioning(Bucket=vb, VersioningConfiguration={"Status": "Enabled"})
    check(s3.get_bucket_versioning(Bucket=vb).get("Status") == "Enabled", "versioning")
    v1 = s3.put_object(Bucket=vb, Key="doc", Body=b"one")["VersionId"]
    s3.put_object(Bucket=vb, Key="doc", Body=b"two")
    check(s3.get_object(Bucket=vb, Key="doc", VersionId=v1)["Body"].read() == b"one", "get by versionId")
    versions = s3.list_object_versions(Bucket=vb)["Versions"]
    check(len(versions) == 2, f"versions {versions}")
    s3.delete_objects(Bucket=vb, Delete={"Objects": [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in versions]})
    s3.delete_bucket(Bucket=vb)


def presigned_urls():
    s3.put_object(Bucket=bucket, Key="presign/p.bin", Body=b"presigned bytes")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "presign/p.bin"}, ExpiresIn=300)
    check("AWSAccessKeyId=" in url and "Expires=" in url and "Signature=" in url, f"not a v2 URL: {url}")
    check(fetch(url) == (200, b"presigned bytes"), "presigned GET")
    # v2 signs Content-Type: the uploader sends the one the URL was made for
    # botocore moves x-amz-* headers (here the metadata) into the URL, signed like headers
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "presign/up.bin", "ContentType": "text/plain", "Metadata": {"note": "hi"}}, ExpiresIn=300)
    check("x-amz-meta-note=hi" in put_url, f"metadata not in the URL: {put_url}")
    status, text = fetch(put_url, data=b"uploaded", method="PUT", headers={"Content-Type": "text/plain"})
    check(status == 200, f"presigned PUT {status} {text[:300]}")
    got = s3.get_object(Bucket=bucket, Key="presign/up.bin")
    check(got["Body"].read() == b"uploaded" and got["ContentType"] == "text/plain", "presigned PUT bytes")
    check(got["Metadata"] == {"note": "hi"}, f"metadata {got['Metadata']}")
    status, _ = fetch(put_url.replace("x-amz-meta-note=hi", "x-amz-meta-note=changed"), data=b"x", method="PUT", headers={"Content-Type": "text/plain"})
    check(status == 403, f"presigned PUT with changed metadata: {status}")
    status, _ = fetch(put_url, data=b"other", method="PUT", headers={"Content-Type": "text/html"})
    check(status == 403, f"presigned PUT with another Content-Type: {status}")
    stale = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "presign/p.bin"}, ExpiresIn=-60)
    status, body = fetch(stale)
    check(status == 403 and b"<Code>AccessDenied</Code>" in body and b"Request has expired" in body, f"expired URL: {status} {body[:300]}")


def presigned_post():
    post = s3.generate_presigned_post(bucket, "forms/${filename}", Conditions=[["starts-with", "$key", "forms/"]], ExpiresIn=300)
    check("AWSAccessKeyId" in post["fields"] and "signature" in post["fields"], f"not a v2 form: {post['fields']}")
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in post["fields"].items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="note.txt"\r\n\r\n'.encode() + b"form bytes\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    status, text = fetch(post["url"], data=body, method="POST", headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    check(status == 204, f"POST {status} {text[:300]}")
    check(s3.get_object(Bucket=bucket, Key="forms/note.txt")["Body"].read() == b"form bytes", "posted bytes")


def every_request_was_v2():
    headers = [h.decode() if isinstance(h, bytes) else h for h in signed_with]
    check(headers and all(h.startswith("AWS ") for h in headers), f"not all v2: {sorted(set(h[:12] for h in headers))}")


def refused_by_v4_only_gateway():
    try:
        v2_client(v4only).list_buckets()
    except ClientError as e:
        err = e.response["Error"]
        check(err["Code"] == "InvalidRequest", f"code {err}")
        check(err["Message"] == "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.", f"message {err}")
        check(e.response["ResponseMetadata"]["HTTPStatusCode"] == 400, "status")
        return
    raise AssertionError("a v4-only gateway accepted a v2 request")


def cleanup():
    keys = [o["Key"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket) for o in p.get("Contents", [])]
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]})
    check(not r.get("Errors"), f"errors {r.get('Errors')}")
    s3.delete_bucket(Bucket=bucket)


print(json.dumps({"step": "versions", "ok": True, "boto3": boto3.__version__, "botocore": botocore.__version__, "python": sys.version.split()[0]}), flush=True)
for fn in (create_bucket, put_get_head, list_and_copy, multipart, acl_and_tagging, versioning, presigned_urls, presigned_post,
           every_request_was_v2, refused_by_v4_only_gateway, cleanup):
    step(fn)
