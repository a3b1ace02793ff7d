import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';

/**
 * Writes dist/sw.js: the service worker from src/sw-template.js with the list
 * of files of this build. Its cache name is a hash of that list, so the
 * output is deterministic and changes exactly when the bundle does.
 */
function serviceWorker(): Plugin {
  return {
    name: 'outpost-service-worker',
    apply: 'build',
    enforce: 'post',
    generateBundle(_options, bundle) {
      const assets = Object.keys(bundle)
        .filter((name) => name.startsWith('assets/'))
        .sort()
        .map((name) => `/${name}`);
      const shell = ['/index.html', ...assets];
      const hash = createHash('sha256').update(shell.join('\n')).digest('hex').slice(0, 12);
      const template = readFileSync(new URL('./src/sw-template.js', import.meta.url), 'utf8');
      const source = template
        .replace("'__CACHE__'", JSON.stringify(`outpost-${hash}`))
        .replace('__SHELL__', JSON.stringify(shell, null, 2));
      this.emitFile({ type: 'asset', fileName: 'sw.js', source });
    },
  };
}

// Outpost web bundle. The Rust server embeds ../dist, so the build must be
// deterministic: same sources + lockfile => byte-identical output (CI diffs it).
export default defineConfig({
  base: '/',
  plugins: [serviceWorker()],
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
