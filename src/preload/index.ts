// The preload exposes the typed API to the renderer and nothing else. The API lands with the
// desktop app issue; until then it exposes nothing at all.
export {};
