"""Cloud live pipelines that record cameras reachable from the cloud."""
