"""Infrastructure as code: the CloudFormation merged into Chalice's SAM output (build_template.py)."""
