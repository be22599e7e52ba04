import { defineConfig } from 'vite';

// `npm run dev -w @ragstream/web` proxies the API of `npm start` (port 8000) for live editing;
// the API node itself serves the built `dist` at `/`.
const api = process.env.RAGSTREAM_API ?? 'http://127.0.0.1:8000';

export default defineConfig({
  build: { outDir: 'dist', emptyOutDir: true },
  server: {
    proxy: {
      '/chat': api,
      '/organisations': api,
      '/socket.io': { target: api, ws: true },
    },
  },
});
