// Minimal player: the original widget's flow (client API → content token → manifest).
// URL parameters: api (the account's client API URL), video (name), token (customer JWT),
// format (hls | dash, default hls), start and end (ISO 8601, optional: a clip).
"use strict";

const params = new URLSearchParams(location.search);
const video = document.getElementById("video");
const statusLine = document.getElementById("status");

function show(text, isError) {
  statusLine.textContent = text;
  statusLine.classList.toggle("error", Boolean(isError));
}

async function clientApi(path, method) {
  const response = await fetch(params.get("api") + path, {
    method: method || "GET",
    headers: { Authorization: "Bearer " + params.get("token") },
    referrerPolicy: "no-referrer",
  });
  if (!response.ok) {
    let message = response.status + " " + response.statusText;
    try { message = (await response.json()).error.message; } catch (e) { /* keep the status */ }
    throw new Error(message);
  }
  return response.json();
}

function manifestUrl(base, format, contentToken) {
  const range = params.get("start") && params.get("end")
    ? ",starttime=" + params.get("start") + ",endtime=" + params.get("end") : "";
  const name = format === "dash" ? "manifest(format=mpd-time-cmaf" + range + ").mpd"
                                 : "manifest(format=m3u8-cmaf" + range + ").m3u8";
  return base + "/" + name + "?token=" + encodeURIComponent(contentToken);
}

function playHls(url) {
  if (window.Hls && Hls.isSupported()) {
    const hls = new Hls({ lowLatencyMode: false });
    hls.on(Hls.Events.ERROR, (_, data) => { if (data.fatal) show("Playback error: " + data.details, true); });
    hls.loadSource(url);
    hls.attachMedia(video);
    window.ovaPlayer = hls;
    setInterval(() => {
      const date = hls.playingDate;
      if (date) document.getElementById("clock").textContent = date.toISOString().replace("T", " ").slice(0, 19) + " UTC";
    }, 250);
  } else {
    video.src = url;
  }
}

function playDash(url) {
  const player = dashjs.MediaPlayer().create();
  player.on(dashjs.MediaPlayer.events.ERROR, (e) => show("Playback error: " + JSON.stringify(e.error), true));
  player.initialize(video, url, true);
  window.ovaPlayer = player;
}

async function main() {
  if (!params.get("api") || !params.get("video") || !params.get("token")) {
    show("Open this page with ?api=<client API URL>&video=<name>&token=<JWT>", true);
    return;
  }
  const name = encodeURIComponent(params.get("video"));
  const entity = await clientApi("/videos/" + name);
  document.getElementById("title").textContent = entity.properties.title || entity.name;
  if (!entity.properties.flags.canStream || !entity.properties.contentUrls.archiveBaseUrl) {
    show("This video cannot be streamed.", true);
    return;
  }
  const issued = await clientApi("/videos/" + name + "/listContentToken", "POST");
  const format = params.get("format") === "dash" ? "dash" : "hls";
  const url = manifestUrl(entity.properties.contentUrls.archiveBaseUrl, format, issued.Token || issued.token);
  show("Playing " + entity.name + " (" + format.toUpperCase() + ")");
  if (format === "dash") playDash(url); else playHls(url);
}

main().catch((error) => show(error.message, true));
