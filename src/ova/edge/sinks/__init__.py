"""The edge's sink nodes: where a pipeline graph's media and events leave it."""
