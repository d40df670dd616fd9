"""HLS (RFC 8216) playlists written from a segment index."""
