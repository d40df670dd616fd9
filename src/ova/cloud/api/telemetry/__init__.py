"""The telemetry family: usage and health reports from edge modules, and their summary."""
