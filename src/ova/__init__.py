"""Open Video Analyzer: a self-hosted successor to Azure Video Analyzer."""

__version__ = "0.1.0"
