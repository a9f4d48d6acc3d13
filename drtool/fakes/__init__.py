"""Hand-written fakes for AWS APIs that moto does not implement, installed behind the
same boto3 client interface (botocore's event system), so drtool code cannot tell.

- `drtool.fakes.aws_backup`: AWS Backup jobs and recovery points (`install(...)`).
"""
