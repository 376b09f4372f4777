import { defineConfig } from 'vite';

// `npm run dev` serves the console with hot reload and passes /api to a
// running osprey (OSPREY_API, default the API's default address).
const api = process.env.OSPREY_API ?? 'http://127.0.0.1:9782';

export default defineConfig({
  build: {
    // dist/app: embed.go embeds dist/, which a clean clone keeps with
    // dist/.keep so that Go builds without npm.
    outDir: 'dist/app',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1200,
  },
  server: {
    proxy: { '/api': { target: api, changeOrigin: true } },
  },
});
