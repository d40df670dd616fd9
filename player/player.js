// Minimal player: the original widget's flow (client API → content token → manifest).
// URL parameters: api (the account's client API URL), video (name), token (customer JWT),
// format (hls | dash, default hls), start and end (ISO 8601, optional: a clip).
//
// Content tokens are short-lived. Like the widget, the page keeps the current one, asks
// listContentToken for a new one shortly before its ExpirationDate, and puts token=<current>
// on every request to the streaming endpoint (manifests, playlists, init and media segments),
// overwriting the token the manifest's URIs were issued with.
"use strict";

const params = new URLSearchParams(location.search);
const video = document.getElementById("video");
const statusLine = document.getElementById("status");

// Refresh this long before expiry: a quarter of the remaining lifetime, within [2 s, 60 s].
const MARGIN_MIN_MS = 2000;
const MARGIN_MAX_MS = 60000;
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30000;

const session = {
  name: "",            // the video's name, URL-encoded
  origin: "",          // origin of the streaming endpoint: only its requests get the token
  token: "",           // the current content token
  expiresAt: 0,        // its expiry, ms since the epoch
  failures: 0,         // failed renewals in a row
  timer: 0,
  playingText: "",
  stopped: false,      // the token expired unrenewed: playback is over
  stop: () => {},      // stops the playback library from loading
};

function show(text, isError) {
  statusLine.textContent = text;
  statusLine.classList.toggle("error", Boolean(isError));
}

function showPlaybackError(text) {
  if (!session.stopped) show(text, true);
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

// --- the content token -------------------------------------------------------------------

async function listContentToken() {
  const issued = await clientApi("/videos/" + session.name + "/listContentToken", "POST");
  const token = issued.Token || issued.token;
  const expiresAt = Date.parse(issued.ExpirationDate || issued.expirationDate);
  if (!token || Number.isNaN(expiresAt)) throw new Error("listContentToken returned no token or ExpirationDate.");
  return { token, expiresAt };
}

function refreshDelay(remaining) {
  const margin = Math.min(MARGIN_MAX_MS, Math.max(MARGIN_MIN_MS, remaining / 4));
  return remaining - margin;
}

function accept(issued) {
  const extended = issued.expiresAt > session.expiresAt;
  session.token = issued.token;
  session.expiresAt = issued.expiresAt;
  if (session.failures > 0) show(session.playingText);
  session.failures = 0;
  const remaining = session.expiresAt - Date.now();
  if (!extended && remaining <= 0) return expire(null);
  // A token that lives no longer than the last one is capped by the customer JWT's exp:
  // ask again only when it runs out (the call then fails, and playback stops).
  const delay = extended ? refreshDelay(remaining) : remaining;
  session.timer = setTimeout(renew, Math.max(RETRY_FIRST_MS, delay));
}

function retry(error) {
  session.failures += 1;
  const remaining = session.expiresAt - Date.now();
  if (remaining <= 0) return expire(error);
  show("Could not renew the content token (" + error.message + "); retrying…", true);
  const backoff = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (session.failures - 1));
  session.timer = setTimeout(renew, Math.min(backoff, remaining));
}

async function renew() {
  let issued;
  try {
    issued = await listContentToken();
  } catch (error) {
    retry(error);
    return;
  }
  accept(issued);
}

function expire(error) {
  session.stopped = true;
  clearTimeout(session.timer);
  session.stop();
  show("Playback stopped: the content token expired and could not be renewed"
       + (error ? " (" + error.message + ")" : "")
       + ". Reload the page, with a new access token if yours has expired.", true);
}

// The URL with token=<current content token>, for requests to the streaming endpoint only
// (a CDN or signed blob URL in a manifest never sees the token).
function withToken(url) {
  const parsed = new URL(url, location.href);
  if (parsed.origin !== session.origin || !/^https?:$/.test(parsed.protocol)) return url;
  parsed.searchParams.set("token", session.token);
  return parsed.toString();
}

// --- playback ----------------------------------------------------------------------------

function manifestUrl(base, format) {
  const range = params.get("start") && params.get("end")
    ? ",starttime=" + params.get("start") + ",endtime=" + params.get("end") : "";
  const name = format === "dash" ? "manifest(format=mpd-time-cmaf" + range + ").mpd"
                                 : "manifest(format=m3u8-cmaf" + range + ").m3u8";
  return withToken(base + "/" + name);
}

function playHls(url) {
  if (!(window.Hls && Hls.isSupported())) {
    video.src = url;  // native HLS: the token cannot follow renewals
    return;
  }
  const hls = new Hls({
    lowLatencyMode: false,
    // Opening the request here makes hls.js use this URL as is.
    xhrSetup: (xhr, requested) => xhr.open("GET", withToken(requested), true),
  });
  hls.on(Hls.Events.ERROR, (_, data) => { if (data.fatal) showPlaybackError("Playback error: " + data.details); });
  hls.loadSource(url);
  hls.attachMedia(video);
  session.stop = () => hls.stopLoad();
  window.ovaPlayer = hls;
  setInterval(() => {
    const date = hls.playingDate;
    if (date) document.getElementById("clock").textContent = date.toISOString().replace("T", " ").slice(0, 19) + " UTC";
  }, 250);
}

function playDash(url) {
  const player = dashjs.MediaPlayer().create();
  player.extend("RequestModifier", () => ({
    modifyRequestURL: withToken,
    modifyRequestHeader: (request) => request,
  }), true);
  player.on(dashjs.MediaPlayer.events.ERROR, (e) => showPlaybackError("Playback error: " + JSON.stringify(e.error)));
  player.initialize(video, url, true);
  session.stop = () => { video.pause(); player.reset(); };
  window.ovaPlayer = player;
}

async function main() {
  if (!params.get("api") || !params.get("video") || !params.get("token")) {
    show("Open this page with ?api=<client API URL>&video=<name>&token=<JWT>", true);
    return;
  }
  session.name = encodeURIComponent(params.get("video"));
  const entity = await clientApi("/videos/" + session.name);
  document.getElementById("title").textContent = entity.properties.title || entity.name;
  const archive = entity.properties.contentUrls.archiveBaseUrl;
  if (!entity.properties.flags.canStream || !archive) {
    show("This video cannot be streamed.", true);
    return;
  }
  session.origin = new URL(archive, location.href).origin;
  accept(await listContentToken());
  const format = params.get("format") === "dash" ? "dash" : "hls";
  session.playingText = "Playing " + entity.name + " (" + format.toUpperCase() + ")";
  show(session.playingText);
  if (format === "dash") playDash(manifestUrl(archive, format)); else playHls(manifestUrl(archive, format));
}

main().catch((error) => show(error.message, true));
