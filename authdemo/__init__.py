"""authdemo: show Cognito + API Gateway HTTP API JWT authorizers end to end, on AWS or offline."""

__version__ = "0.1.0"
