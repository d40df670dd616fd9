"""A test page that plays one HLS and one DASH manifest side by side with hls.js and dash.js.

Fatal player errors are collected in ``window.playbackErrors``; the ``<video>`` elements are
``#hls`` and ``#dash``.
"""

from __future__ import annotations

import json

_PAGE = """<!doctype html>
<meta charset="utf-8">
<video id="hls" muted autoplay playsinline width="320"></video>
<video id="dash" muted autoplay playsinline width="320"></video>
<script src="%(scripts)shls.min.js"></script>
<script src="%(scripts)sdash.all.min.js"></script>
<script>
  window.playbackErrors = [];
  const hls = new Hls();
  hls.on(Hls.Events.ERROR, (_, data) => { if (data.fatal) playbackErrors.push("hls: " + data.details); });
  hls.loadSource(%(hls)s);
  hls.attachMedia(document.getElementById("hls"));
  const dash = dashjs.MediaPlayer().create();
  dash.on(dashjs.MediaPlayer.events.ERROR, (e) => playbackErrors.push("dash: " + JSON.stringify(e.error)));
  dash.initialize(document.getElementById("dash"), %(dash)s, true);
</script>
"""


def two_player_page(hls: str, dash: str, scripts: str = "") -> str:
    """The page's HTML; ``scripts`` is the URL prefix of ``hls.min.js`` and ``dash.all.min.js``."""
    return _PAGE % {"scripts": scripts, "hls": json.dumps(hls), "dash": json.dumps(dash)}
