"""The edge's pipeline graph: from an activated live pipeline to running, wired nodes."""
