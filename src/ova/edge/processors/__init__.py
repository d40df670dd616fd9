"""The edge's processor nodes: what sits between a graph's sources and its sinks."""
