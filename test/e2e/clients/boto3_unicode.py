"""boto3 sending non-ASCII header values as UTF-8 bytes, and what comes back.

Driven by boto3-unicode.test.ts with Debian's /usr/bin/python3 (python3-boto3). Usage:
    boto3_unicode.py ENDPOINT BUCKET        (keys in ERNE_ACCESS_KEY / ERNE_SECRET_KEY)
botocore refuses non-ASCII in its Metadata parameter, so metadata goes in as raw headers
through an event hook, as applications and conformance suites do; botocore sends and signs
every header value as UTF-8. Response headers reach Python decoded as latin-1, so each value
is reported as the hex of the bytes that came back. One JSON object per line:
{"step", "ok", "error"?, ...what was observed}.
"""
import sys

from botocore.exceptions import ClientError

from boto3_steps import client, step

endpoint, bucket = sys.argv[1], sys.argv[2]
s3 = client(endpoint)
UNICODE_KEY = "unicode/Zürich-東京.txt"


def with_headers(operation, headers):
    """adds `headers` to the next calls of `operation` (botocore event hook)"""

    def add(params, **_):
        params["headers"].update(headers)

    s3.meta.events.register(f"before-call.s3.{operation}", add, unique_id=f"add-{operation}")


def without_headers(operation):
    s3.meta.events.unregister(f"before-call.s3.{operation}", unique_id=f"add-{operation}")


def returned(headers, prefix):
    """response headers starting with prefix → hex of the bytes received"""
    return {k: v.encode("latin-1").hex() for k, v in headers.items() if k.startswith(prefix)}




def put_metadata():
    with_headers("PutObject", {"x-amz-meta-city": "Zürich", "x-amz-meta-town": "東京"})
    try:
        s3.put_object(Bucket=bucket, Key="unicode/a.txt", Body=b"hello", ContentDisposition='attachment; filename="Zürich 東京.txt"')
    finally:
        without_headers("PutObject")


def head_metadata():
    h = s3.head_object(Bucket=bucket, Key="unicode/a.txt")["ResponseMetadata"]["HTTPHeaders"]
    return {"meta": returned(h, "x-amz-meta-"), "disposition": returned(h, "content-disposition")}


def get_metadata():
    r = s3.get_object(Bucket=bucket, Key="unicode/a.txt")
    h = r["ResponseMetadata"]["HTTPHeaders"]
    return {"meta": returned(h, "x-amz-meta-"), "body": r["Body"].read().decode()}


def tagging_header():
    s3.put_object(Bucket=bucket, Key="unicode/t.txt", Body=b"t", Tagging="city=Zürich&town=東京")
    tags = s3.get_object_tagging(Bucket=bucket, Key="unicode/t.txt")["TagSet"]
    return {"tags": {t["Key"]: t["Value"] for t in tags}}


def copy_replacing_metadata():
    with_headers("CopyObject", {"x-amz-meta-city": "Genève"})
    try:
        s3.copy_object(Bucket=bucket, Key="unicode/c.txt", CopySource={"Bucket": bucket, "Key": "unicode/a.txt"}, MetadataDirective="REPLACE")
    finally:
        without_headers("CopyObject")
    h = s3.head_object(Bucket=bucket, Key="unicode/c.txt")["ResponseMetadata"]["HTTPHeaders"]
    return {"meta": returned(h, "x-amz-meta-")}


def copy_source_as_utf8():
    """x-amz-copy-source with the key's UTF-8 bytes as they are, not percent-encoded"""
    s3.put_object(Bucket=bucket, Key=UNICODE_KEY, Body=b"from a unicode key")

    def raw_source(request, **_):
        del request.headers["x-amz-copy-source"]
        request.headers["x-amz-copy-source"] = f"/{bucket}/{UNICODE_KEY}"

    s3.meta.events.register("before-sign.s3.CopyObject", raw_source, unique_id="raw-source")
    try:
        s3.copy_object(Bucket=bucket, Key="unicode/copied.txt", CopySource={"Bucket": bucket, "Key": UNICODE_KEY})
    finally:
        s3.meta.events.unregister("before-sign.s3.CopyObject", unique_id="raw-source")
    return {"body": s3.get_object(Bucket=bucket, Key="unicode/copied.txt")["Body"].read().decode()}


def multipart_metadata():
    with_headers("CreateMultipartUpload", {"x-amz-meta-city": "Zürich"})
    try:
        up = s3.create_multipart_upload(Bucket=bucket, Key="unicode/m.txt")
    finally:
        without_headers("CreateMultipartUpload")
    part = s3.upload_part(Bucket=bucket, Key="unicode/m.txt", UploadId=up["UploadId"], PartNumber=1, Body=b"part")
    s3.complete_multipart_upload(
        Bucket=bucket, Key="unicode/m.txt", UploadId=up["UploadId"], MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]}
    )
    h = s3.head_object(Bucket=bucket, Key="unicode/m.txt")["ResponseMetadata"]["HTTPHeaders"]
    return {"meta": returned(h, "x-amz-meta-")}


s3.create_bucket(Bucket=bucket)
for fn in (put_metadata, head_metadata, get_metadata, tagging_header, copy_replacing_metadata, copy_source_as_utf8, multipart_metadata):
    step(fn)
