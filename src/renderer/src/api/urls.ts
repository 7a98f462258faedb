// Where the page's WebSockets live, relative to the page itself. The host server serves the app
// under a secret base path (`/s/<random>/`) and sends its token cookie only to URLs under it, so no
// URL the page builds may start from `/`. Pure, so a unit test pins it without a browser.

/** The WebSocket URL of the page's own directory, ending in `/`: `ws://HOST/s/<random>/`. */
export function socketBase(page: { protocol: string; host: string; pathname: string }): string {
  const dir = page.pathname.slice(0, page.pathname.lastIndexOf('/') + 1) || '/';
  return `${page.protocol === 'https:' ? 'wss' : 'ws'}://${page.host}${dir}`;
}
