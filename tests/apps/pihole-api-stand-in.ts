/**
 * A stand-in for Pi-hole v6's REST API, enough of it for the adlist sync: it records every call,
 * can answer "not ready" for the first calls (a fresh volume building gravity), and keeps block
 * lists in memory the way FTL does.
 */
import * as http from "http";
import { AddressInfo } from "net";

export interface RecordedCall {
  readonly method: string;
  readonly path: string;
  readonly sid?: string;
  readonly body?: unknown;
}

export interface StandIn {
  readonly url: string;
  readonly calls: RecordedCall[];
  readonly lists: { address: string; comment: string | null }[];
  /** Sessions opened and not closed. */
  openSessions(): number;
  close(): Promise<void>;
}

export async function startPiholeStandIn(options: {
  password: string;
  /** How many /api/info/login calls answer as not ready first. @default 0 */
  notReadyFor?: number;
  lists?: { address: string; comment: string | null }[];
}): Promise<StandIn> {
  const calls: RecordedCall[] = [];
  const lists = [...(options.lists ?? [])];
  const sessions = new Set<string>();
  let loginInfoCalls = 0;
  let nextSid = 1;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const body = text ? (JSON.parse(text) as unknown) : undefined;
      const url = new URL(req.url ?? "/", "http://stand-in");
      const sid = req.headers["x-ftl-sid"] as string | undefined;
      calls.push({ method: req.method ?? "", path: url.pathname + url.search, sid, body });
      const send = (status: number, payload?: unknown) => {
        res.writeHead(status, { "Content-Type": "application/json" });
        res.end(payload === undefined ? "" : JSON.stringify(payload));
      };
      const authed = sid !== undefined && sessions.has(sid);

      if (req.method === "GET" && url.pathname === "/api/info/login") {
        loginInfoCalls++;
        if (loginInfoCalls <= (options.notReadyFor ?? 0)) {
          // Gravity still running on a fresh volume: the web server answers, DNS is not up.
          return send(200, { dns: false, https_port: 0 });
        }
        return send(200, { dns: true, https_port: 0 });
      }
      if (req.method === "POST" && url.pathname === "/api/auth") {
        const given = (body as { password?: string } | undefined)?.password;
        if (given !== options.password) {
          return send(401, { session: { valid: false, sid: null }, took: 0 });
        }
        const newSid = `sid-${nextSid++}`;
        sessions.add(newSid);
        return send(200, { session: { valid: true, totp: false, sid: newSid, validity: 1800 } });
      }
      if (!authed) return send(401, { error: { key: "unauthorized" } });
      if (req.method === "DELETE" && url.pathname === "/api/auth") {
        sessions.delete(sid!);
        return send(204);
      }
      if (req.method === "GET" && url.pathname === "/api/lists") {
        return send(200, {
          lists: lists.map((l, i) => ({ ...l, id: i + 1, type: "block", enabled: true })),
        });
      }
      if (req.method === "POST" && url.pathname === "/api/lists") {
        const { address, comment } = body as { address: string[]; comment: string };
        const success: { item: string }[] = [];
        const errors: { item: string; error: string }[] = [];
        for (const a of address) {
          if (lists.some((l) => l.address === a)) {
            errors.push({
              item: a,
              error: "UNIQUE constraint failed: adlist.address, adlist.type",
            });
          } else {
            lists.push({ address: a, comment });
            success.push({ item: a });
          }
        }
        return send(201, { lists: [], processed: { success, errors } });
      }
      if (req.method === "DELETE" && url.pathname.startsWith("/api/lists/")) {
        const address = decodeURIComponent(url.pathname.slice("/api/lists/".length));
        const index = lists.findIndex((l) => l.address === address);
        if (index < 0) return send(404, { error: { key: "not_found" } });
        lists.splice(index, 1);
        return send(204);
      }
      if (req.method === "POST" && url.pathname === "/api/action/gravity") {
        res.writeHead(200, { "Content-Type": "text/plain" });
        return res.end("  [✓] Building tree\n  [✓] Done.\n");
      }
      return send(404, { error: { key: "not_found" } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    lists,
    openSessions: () => sessions.size,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
