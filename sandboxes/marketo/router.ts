/**
 * The Marketo sandbox's small router: routes are `(method, path template, handler)`; a handler
 * gets the parsed parameters and returns the success body (spread after `requestId, success: true`)
 * or throws an EnvelopeError. An unknown path answers 610, a known path with another method 605
 * (AdobeDocs/marketo-developer.en help/rest-api/error-codes.md: 610 "Requested resource not found",
 * 605 "HTTP Method not supported").
 */

export type Params = Record<string, string>;

export interface RouteContext {
  /** Query parameters, plus the form body of a POST `_method=GET`. */
  params: Params;
  /** Parsed JSON body (POST) or the form parameters. */
  body: unknown;
  /** Sandbox clock at dispatch. */
  now: number;
  /** `{name}` segments of the path template. */
  pathParams: Record<string, string>;
  /** Request headers, lower-cased names (e.g. `range` for the bulk file endpoints). */
  headers: Record<string, string>;
}

export type RouteResult = Record<string, unknown>;

/** A response that is not a JSON envelope (the bulk extract file endpoints answer with the file, or 404 text). */
export class RawResponse {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string | number>,
    readonly body: Buffer | string,
  ) {}
}

export type Handler = (ctx: RouteContext) => RouteResult | RawResponse;

interface Route {
  method: string;
  pattern: RegExp;
  names: string[];
  handler: Handler;
}

export type RouteMatch =
  | { ok: true; handler: Handler; pathParams: Record<string, string> }
  | { ok: false; code: '605' | '610' };

export class Router {
  private readonly routes: Route[] = [];

  /** Adds a route; `{name}` in `path` matches one path segment. */
  route(method: 'GET' | 'POST', path: string, handler: Handler): this {
    const names: string[] = [];
    const pattern = new RegExp(
      `^${path.replace(/\{(\w+)\}/g, (_m, n: string) => {
        names.push(n);
        return '([^/]+)';
      })}$`,
    );
    this.routes.push({ method, pattern, names, handler });
    return this;
  }

  match(method: string, path: string): RouteMatch {
    const r = this.routes.find((x) => x.method === method && x.pattern.test(path));
    if (!r) return { ok: false, code: this.routes.some((x) => x.pattern.test(path)) ? '605' : '610' };
    const m = r.pattern.exec(path)!;
    const pathParams: Record<string, string> = {};
    r.names.forEach((n, i) => {
      pathParams[n] = decodeURIComponent(m[i + 1] ?? '');
    });
    return { ok: true, handler: r.handler, pathParams };
  }
}
