"""MPEG-DASH (ISO/IEC 23009-1) manifests written from a segment index."""
