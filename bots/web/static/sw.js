// VoiceMood's service worker: keeps the page shell so the installed app opens offline.
// Network first (so an updated page shows at once), the cached copy when offline.
"use strict";
const CACHE = "voicemood-shell-v4";
const SHELL = [
  "/",
  "/static/app.css",
  "/static/app.js",
  "/static/icon-192.png",
  "/static/NotoColorEmoji-page.woff",
  "/manifest.webmanifest",
  "/api/messages",
];
// Kept once used rather than fetched at install: the Korean font is 0.4 MB, needed by few.
const ON_USE = ["/static/VoiceMoodHangul.woff"];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (!SHELL.includes(url.pathname) && !ON_USE.includes(url.pathname)) return;
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(url.pathname, copy));
        }
        return response;
      })
      .catch(() => caches.match(url.pathname)),
  );
});
