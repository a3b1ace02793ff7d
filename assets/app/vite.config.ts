import { defineConfig } from 'vitest/config';

// Outpost web bundle. The Rust server embeds ../dist, so the build must be
// deterministic: same sources + lockfile => byte-identical output (CI diffs it).
export default defineConfig({
  base: '/',
  // Preact via the automatic JSX runtime, transformed by Oxc (no Babel preset).
  oxc: {
    jsx: {
      runtime: 'automatic',
      importSource: 'preact',
    },
  },
  resolve: {
    alias: {
      // In case a dependency ever imports React, route it to Preact's compat layer.
      react: 'preact/compat',
      'react-dom': 'preact/compat',
    },
  },
  build: {
    outDir: '../dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    // One JS entry and one CSS file; no inline data: assets in the bundle.
    cssCodeSplit: false,
    assetsInlineLimit: 0,
    // Every supported browser has native <link rel="modulepreload">; the
    // polyfill would only add bytes.
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
  },
  server: {
    // `npm run dev` proxies the API to a locally running Outpost server
    // (`cargo run -- serve`; HTTPS with its own CA, hence secure: false).
    proxy: {
      '/api': {
        target: process.env.OUTPOST_DEV_SERVER ?? 'https://127.0.0.1:8443',
        secure: false,
        changeOrigin: true,
        ws: true,
      },
    },
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.{ts,tsx}'],
    restoreMocks: true,
  },
});
