/**
 * A local stand-in for what the site's updater talks to, on 127.0.0.1 at a random port: GHCR's
 * anonymous token + tags API (`/token`, `/v2/<repo>/tags/list?n=` with `Link: rel="next"` pages)
 * and the Kubernetes API's GET and JSON PATCH of one Deployment, including the patch's `test` step.
 */
import * as http from "http";
import { AddressInfo } from "net";

export interface RegistryStandIn {
  readonly url: string;
  /** Tags in registry order; replace to simulate a new build. */
  tags: string[];
  /** `5xx`: every registry call answers 503. */
  mode: "ok" | "5xx";
  /** The Deployment's current image; PATCHes change it. */
  image: string;
  /** Every PATCH body received, parsed. */
  readonly patches: unknown[];
  /** Registry requests, `METHOD path` (to assert the pagination). */
  readonly requests: string[];
  close(): Promise<void>;
}

const TOKEN = "stand-in-token";
const SA_TOKEN = "sa-token";

/** Starts the stand-in for repository `owner/name`, Deployment `namespace/name`, `pageSize` tags a page at most. */
export async function startRegistryStandIn(args: {
  repository: string;
  namespace: string;
  deployment: string;
  tags: string[];
  image: string;
  pageSize?: number;
}): Promise<RegistryStandIn> {
  const deploymentPath = `/apis/apps/v1/namespaces/${args.namespace}/deployments/${args.deployment}`;
  const state = {
    tags: args.tags,
    mode: "ok" as "ok" | "5xx",
    image: args.image,
    patches: [] as unknown[],
    requests: [] as string[],
  };
  const send = (res: http.ServerResponse, status: number, body: unknown, headers = {}) => {
    res.writeHead(status, { "Content-Type": "application/json", ...headers });
    res.end(typeof body === "string" ? body : JSON.stringify(body, null, 2));
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://stand-in");
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      if (url.pathname === deploymentPath) {
        if (req.headers.authorization !== `Bearer ${SA_TOKEN}`) return send(res, 401, {});
        if (req.method === "GET") {
          return send(res, 200, {
            kind: "Deployment",
            metadata: { name: args.deployment, namespace: args.namespace },
            spec: { template: { spec: { containers: [{ name: "site", image: state.image }] } } },
          });
        }
        if (req.method === "PATCH") {
          if (req.headers["content-type"] !== "application/json-patch+json")
            return send(res, 415, {});
          const ops = JSON.parse(body) as { op: string; path: string; value: string }[];
          state.patches.push(ops);
          const imagePath = "/spec/template/spec/containers/0/image";
          for (const op of ops) {
            if (op.path !== imagePath) return send(res, 422, { message: `path ${op.path}` });
            if (op.op === "test" && op.value !== state.image)
              return send(res, 422, { message: "test failed" });
          }
          const replace = ops.find((o) => o.op === "replace");
          if (replace) state.image = replace.value;
          return send(res, 200, {});
        }
      }
      state.requests.push(`${req.method} ${url.pathname}${url.search}`);
      if (state.mode === "5xx") return send(res, 503, { errors: [{ code: "UNAVAILABLE" }] });
      if (url.pathname === "/token") {
        if (url.searchParams.get("scope") !== `repository:${args.repository}:pull`)
          return send(res, 400, {});
        return send(res, 200, { token: TOKEN });
      }
      if (url.pathname === `/v2/${args.repository}/tags/list`) {
        if (req.headers.authorization !== `Bearer ${TOKEN}`) return send(res, 401, {});
        // The registry's own cap (smaller than asked for) forces several pages.
        const n = Math.min(Number(url.searchParams.get("n") ?? 100), args.pageSize ?? 1000);
        const last = url.searchParams.get("last");
        const start = last === null ? 0 : state.tags.indexOf(last) + 1;
        const page = state.tags.slice(start, start + n);
        const more = start + n < state.tags.length;
        const link = more
          ? {
              Link: `</v2/${args.repository}/tags/list?last=${page[page.length - 1]}&n=${n}>; rel="next"`,
            }
          : {};
        return send(res, 200, { name: args.repository, tags: page }, link);
      }
      send(res, 404, {});
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

/** The ServiceAccount token the stand-in accepts (write it to `<SA_DIR>/token`). */
export const STAND_IN_SA_TOKEN = SA_TOKEN;
