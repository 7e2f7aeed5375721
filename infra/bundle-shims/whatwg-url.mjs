// Bundled in place of whatwg-url (infra/app-function.ts, esbuild alias). Its one importer,
// node-fetch 2 (jsforce's HTTP client), reads `const URL = Url.URL || whatwgUrl.URL`, with `Url`
// Node's own 'url' module: Node's URL always wins, so the polyfill, and tr46's Unicode table under
// it (~70 KB of each gzipped bundle), is dead code on Node. This stand-in keeps the same shape.
export default { URL: globalThis.URL, URLSearchParams: globalThis.URLSearchParams };
