/// <reference types="vitest/config" />
// The web app's build: written into the Python package (src/mantle/web/ui_dist) so the server
// serves it and the wheel carries it. Pages are lazy routes (src/routes.tsx): one chunk each.
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "../src/mantle/web/ui_dist",
    emptyOutDir: true,
    // The server's CSP has no 'unsafe-inline': keep every asset a file, never a data: script.
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  server: {
    // `npm run dev` beside `make run`: API calls go to the server (same-origin cookies).
    proxy: Object.fromEntries(
      ["/api", "/login", "/logout", "/static", "/storage", "/docs", "/openapi.json"].map((p) => [p, "http://127.0.0.1:8000"]),
    ),
  },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.ts"],
    css: false,
  },
});
