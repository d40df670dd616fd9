"""The cloud's side of the edge-integration family: what an edge module may do once it has shaken hands.

- ``provisioning``: the first handshake, which spends a single-use provisioning token;
- ``module_keys``: the module keys that sign every later request, their rotation and grace;
- ``policy``: the ``EdgePolicy`` modules download;
- ``publishing``: videos an edge module instance records into, and their create-only upload SAS;
- ``segment_commit``: inits, segments, previews and recording state entering the segment index.

Wire shapes are ``ova.contracts.edge_api``; errors are the ``ova.common.errors`` roots, mapped
to the ARM envelope by the family's app.
"""
