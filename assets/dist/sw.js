// Outpost service worker (generated at build time from src/sw-template.js).
// Caches the app shell (index.html and the hashed assets) so the app opens
// without the network; never touches /api (live data and the WebSocket).

const CACHE = "outpost-c1cce98f3727";
const SHELL = [
  "/index.html",
  "/assets/favicon-DXwNNWbi.svg",
  "/assets/index-DPy73-mZ.js",
  "/assets/style-Be1y0ZsC.css"
];

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('outpost-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/') || url.pathname === '/api') return;

  if (url.pathname.startsWith('/assets/')) {
    // Hashed names never change: cache first.
    event.respondWith(
      caches.match(request).then(
        (hit) =>
          hit ||
          fetch(request).then((res) => {
            if (res.ok) {
              const copy = res.clone();
              caches.open(CACHE).then((cache) => cache.put(request, copy));
            }
            return res;
          }),
      ),
    );
    return;
  }

  if (request.mode === 'navigate') {
    // Pages: the network first (fresh index.html), the cached shell when offline.
    event.respondWith(fetch(request).catch(() => caches.match('/index.html').then((hit) => hit || Response.error())));
  }
});
