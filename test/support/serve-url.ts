// The first-load URL `hangar serve` prints: port, secret base path, token. One pattern for every test
// that starts a real server and needs its parts.
export const SERVE_URL = /http:\/\/127\.0\.0\.1:(\d+)(\/s\/[A-Za-z0-9_-]+\/)\?token=([A-Za-z0-9_-]+)/;

export interface ServeUrl {
  url: string;
  port: number;
  basePath: string;
  token: string;
}

/** The first printed URL in `text`, split into its parts, or null while there is none yet. */
export function findServeUrl(text: string): ServeUrl | null {
  const m = SERVE_URL.exec(text);
  return m ? { url: m[0], port: Number(m[1]), basePath: m[2]!, token: m[3]! } : null;
}
