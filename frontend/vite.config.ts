import { defineConfig } from 'vite';

// The Rust server embeds dist/ and serves index.html for every non-/api path,
// so assets must be referenced with absolute paths (base '/').
export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
  },
  server: {
    // `npm run dev` against a locally running `plenum serve --bind 127.0.0.1:8080`
    proxy: {
      '/api': { target: 'http://127.0.0.1:8080', changeOrigin: false },
    },
  },
});
