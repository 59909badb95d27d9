"""boto3 doing an application's normal job against an S3 endpoint, one step at a time.

Driven by boto3.test.ts with Debian's /usr/bin/python3 (python3-boto3). Usage:
    boto3_walk.py ENDPOINT BUCKET WORKDIR        (keys in ERNE_ACCESS_KEY / ERNE_SECRET_KEY)
Prints one JSON object per line: {"step", "ok", "error"?, "response"?}. Steps run on after a
failure (each makes what it needs), so one missing feature does not hide the rest.
"""
import hashlib
import json
import os
import sys
import urllib.request

import boto3
import botocore
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

from boto3_steps import check, client, md5, step

MiB = 1024 * 1024
endpoint, bucket, work = sys.argv[1], sys.argv[2], sys.argv[3]
s3 = client(endpoint)
# small thresholds so a 12 MiB file is a 3-part upload, a ranged download and a part copy
SMALL = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=4)




def file_md5(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(MiB), b""):
            h.update(chunk)
    return h.hexdigest()


def write_random(path, size):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, MiB)
            f.write(os.urandom(n))
            left -= n
    return file_md5(path)






def keys(prefix):
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(o["Key"] for p in pages for o in p.get("Contents", []))


def create_bucket():
    s3.create_bucket(Bucket=bucket)
    check(bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]], "bucket not listed")


def put_get_small():
    data = os.urandom(3000)
    r = s3.put_object(Bucket=bucket, Key="small/a.bin", Body=data, ContentType="application/x-a", Metadata={"color": "red"})
    check(r["ETag"] == f'"{md5(data)}"', f"ETag {r['ETag']}")
    g = s3.get_object(Bucket=bucket, Key="small/a.bin")
    check(md5(g["Body"].read()) == md5(data), "bytes differ")
    h = s3.head_object(Bucket=bucket, Key="small/a.bin")
    check(h["ContentType"] == "application/x-a" and h["Metadata"] == {"color": "red"}, f"head {h['ContentType']} {h['Metadata']}")


def upload_file_multipart():
    path = os.path.join(work, "twelve.bin")
    want = write_random(path, 12 * MiB + 11)
    s3.upload_file(path, bucket, "big/twelve.bin", Config=SMALL)
    h = s3.head_object(Bucket=bucket, Key="big/twelve.bin")
    check(h["ContentLength"] == 12 * MiB + 11, f"length {h['ContentLength']}")
    check(h["ETag"].endswith('-3"'), f"ETag {h['ETag']} is not a 3-part ETag")
    down = os.path.join(work, "twelve.down")
    s3.download_file(bucket, "big/twelve.bin", down, Config=SMALL)
    check(file_md5(down) == want, "downloaded bytes differ")


def download_file_small():
    path = os.path.join(work, "small.bin")
    want = write_random(path, 1000)
    s3.upload_file(path, bucket, "small/f.bin")
    s3.download_file(bucket, "small/f.bin", os.path.join(work, "small.down"))
    check(file_md5(os.path.join(work, "small.down")) == want, "bytes differ")


def list_paginator():
    for i in range(25):
        s3.put_object(Bucket=bucket, Key=f"list/k{i:02d}", Body=b"x")
    pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="list/", PaginationConfig={"PageSize": 10}))
    check(len(pages) == 3, f"{len(pages)} pages")
    got = [o["Key"] for p in pages for o in p.get("Contents", [])]
    check(got == [f"list/k{i:02d}" for i in range(25)], f"keys {got}")
    d = s3.list_objects_v2(Bucket=bucket, Prefix="", Delimiter="/")
    prefixes = [p["Prefix"] for p in d.get("CommonPrefixes", [])]
    check("list/" in prefixes and "small/" in prefixes and not d.get("Contents"), f"delimiter listing {prefixes} {d.get('Contents')}")


def copy_object():
    data = os.urandom(4000)
    s3.put_object(Bucket=bucket, Key="copy/src.bin", Body=data)
    s3.copy_object(Bucket=bucket, Key="copy/dst.bin", CopySource={"Bucket": bucket, "Key": "copy/src.bin"})
    check(md5(s3.get_object(Bucket=bucket, Key="copy/dst.bin")["Body"].read()) == md5(data), "copy differs")


def managed_copy_multipart():
    # client.copy above the threshold uses CreateMultipartUpload + UploadPartCopy with ranges
    path = os.path.join(work, "copy12.bin")
    want = write_random(path, 12 * MiB)
    s3.upload_file(path, bucket, "copy/big-src.bin", Config=SMALL)
    s3.copy({"Bucket": bucket, "Key": "copy/big-src.bin"}, bucket, "copy/big-dst.bin", Config=SMALL)
    down = os.path.join(work, "copy12.down")
    s3.download_file(bucket, "copy/big-dst.bin", down)
    check(file_md5(down) == want, "copied bytes differ")


def presigned_urls():
    data = os.urandom(1500)
    s3.put_object(Bucket=bucket, Key="presign/p.bin", Body=data)
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "presign/p.bin"}, ExpiresIn=600)
    with urllib.request.urlopen(url) as r:
        check(r.status == 200 and md5(r.read()) == md5(data), "presigned GET")
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "presign/up.bin"}, ExpiresIn=600)
    body = os.urandom(777)
    req = urllib.request.Request(put_url, data=body, method="PUT")
    with urllib.request.urlopen(req) as r:
        check(r.status == 200, f"presigned PUT {r.status}")
    check(md5(s3.get_object(Bucket=bucket, Key="presign/up.bin")["Body"].read()) == md5(body), "presigned PUT bytes")


def sync_directory():
    root = os.path.join(work, "tree")
    want = {}
    for i in range(40):
        rel = f"{['', 'a/', 'a/b/', 'c d/'][i % 4]}f{i}.bin"
        want[rel] = write_random(os.path.join(root, rel), 1 + i * 97)
    for rel in want:
        s3.upload_file(os.path.join(root, rel), bucket, f"tree/{rel}")
    check(keys("tree/") == sorted(f"tree/{r}" for r in want), "listing differs from the tree")
    for rel, m in want.items():
        out = os.path.join(work, "tree-down", rel)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        s3.download_file(bucket, f"tree/{rel}", out)
        check(file_md5(out) == m, f"{rel} differs")


def versioning():
    vb = bucket + "-v"
    s3.create_bucket(Bucket=vb)
    s3.put_bucket_versioning(Bucket=vb, VersioningConfiguration={"Status": "Enabled"})
    check(s3.get_bucket_versioning(Bucket=vb).get("Status") == "Enabled", "versioning not Enabled")
    v1 = s3.put_object(Bucket=vb, Key="doc.txt", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=vb, Key="doc.txt", Body=b"two")["VersionId"]
    check(v1 != v2, "same version id twice")
    check(s3.get_object(Bucket=vb, Key="doc.txt", VersionId=v1)["Body"].read() == b"one", "old version bytes")
    marker = s3.delete_object(Bucket=vb, Key="doc.txt")
    check(marker.get("DeleteMarker") is True, f"no delete marker: {marker}")
    pages = list(s3.get_paginator("list_object_versions").paginate(Bucket=vb, PaginationConfig={"PageSize": 1}))
    versions = [v["VersionId"] for p in pages for v in p.get("Versions", [])]
    markers = [m["VersionId"] for p in pages for m in p.get("DeleteMarkers", [])]
    check(versions == [v2, v1] and markers == [marker["VersionId"]], f"versions {versions} markers {markers}")
    # the usual way to empty a versioned bucket: delete every version and marker by id
    r = s3.delete_objects(Bucket=vb, Delete={"Objects": [{"Key": "doc.txt", "VersionId": v} for v in versions + markers]})
    check(not r.get("Errors"), f"errors {r.get('Errors')}")
    s3.delete_bucket(Bucket=vb)


def delete_objects_and_bucket():
    all_keys = keys("")
    check(len(all_keys) >= 40, f"only {len(all_keys)} keys")
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in all_keys]})
    check(not r.get("Errors"), f"errors {r.get('Errors')}")
    check(len(r.get("Deleted", [])) == len(all_keys), "not all deleted")
    check(keys("") == [], "objects left")
    # aborted or unfinished uploads would keep the bucket from being deleted
    try:
        for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
            s3.abort_multipart_upload(Bucket=bucket, Key=u["Key"], UploadId=u["UploadId"])
    except ClientError:
        pass
    s3.delete_bucket(Bucket=bucket)


print(json.dumps({"step": "versions", "ok": True, "boto3": boto3.__version__, "botocore": botocore.__version__, "python": sys.version.split()[0]}), flush=True)
for fn in (create_bucket, put_get_small, upload_file_multipart, download_file_small, list_paginator, copy_object,
           managed_copy_multipart, presigned_urls, sync_directory, versioning, delete_objects_and_bucket):
    step(fn)
