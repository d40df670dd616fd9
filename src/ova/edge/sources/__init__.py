"""The edge's source nodes: where media and events enter a pipeline graph."""
