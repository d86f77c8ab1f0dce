import { defineConfig } from 'vite';

// The API serves the built page at /dashboard/ (services/api/src/dashboard-route.ts), so asset
// URLs must carry that prefix.
export default defineConfig({
  base: '/dashboard/',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
});
