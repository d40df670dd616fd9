"""The edge-integration family: what edge modules call (``ova.contracts.edge_api``)."""
