"""The only modules that import boto3: DynamoDB, SES, SES's account list, CloudWatch, S3, SQS, Lambda,
CloudFormation and STS (the last ones for the operator tools: the CLI and the doctor)."""
