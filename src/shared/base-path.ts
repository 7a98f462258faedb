// The host server serves everything under a random per-run base path, `/s/<secret>/`, and scopes its
// token cookie to it (src/main/server/security.ts says why). Its shape, for the server that makes it
// and the preload that builds console URLs with it.

const BASE_PATH_SHAPE = /^\/s\/[A-Za-z0-9_-]{22,128}\/$/;

/** `/s/` plus 22-128 characters of A-Z a-z 0-9 _ - plus `/`: safe as a URL path and a cookie Path. */
export function isBasePath(basePath: unknown): basePath is string {
  return typeof basePath === 'string' && BASE_PATH_SHAPE.test(basePath);
}
