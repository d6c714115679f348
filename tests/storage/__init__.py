"""Tests of the object store, its signed-URL route and the boto3 session factory."""
