"""The only modules that import boto3: DynamoDB, SES, SES's account list, CloudWatch, S3."""
