"""What the boto3 scripts beside this file share: a client for the endpoint, and steps that
report one JSON line each ({"step", "ok", what the step returns, or "error", "code",
"status", "response" when it failed}) and let the run go on after
a failure, so one missing feature does not hide the rest."""
import hashlib
import json
import os
import traceback

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError


def client(endpoint, signature_version="s3v4"):
    """path-style, us-east-1, keys from ERNE_ACCESS_KEY / ERNE_SECRET_KEY, no retries"""
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=os.environ["ERNE_ACCESS_KEY"],
        aws_secret_access_key=os.environ["ERNE_SECRET_KEY"],
        config=Config(signature_version=signature_version, s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


def md5(b):
    return hashlib.md5(b).hexdigest()


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def step(fn):
    out = {"step": fn.__name__, "ok": True}
    try:
        out.update(fn() or {})
    except ClientError as e:
        meta = e.response.get("ResponseMetadata", {})
        status = meta.get("HTTPStatusCode")
        out.update(ok=False, error=f"{e}", code=e.response.get("Error", {}).get("Code"), status=status, response={"Error": e.response.get("Error"), "HTTPStatusCode": status})
    except Exception as e:  # the report wants every failure, whatever its kind
        out.update(ok=False, error=f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=3)}")
    print(json.dumps(out), flush=True)
