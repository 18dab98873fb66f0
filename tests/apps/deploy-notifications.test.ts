/**
 * Deploy notifications: the Job's name is stable for the same versions (no diff, no message)
 * and changes when a version does; its script, run against a local HTTP stand-in for Discord and
 * the API server, posts one message marking what changed, records the set, and sends nothing
 * when nothing changed. The webhook URL never reaches a command line.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import {
  deployVersions,
  LAST_NOTIFIED_CONFIGMAP,
  longestMessage,
  notifyJobManifest,
  notifyJobName,
  notifyScript,
  versionLines,
} from "../../components/apps/deploy-notifications/deploy-notifications";
import { IMAGES } from "../../components/apps/images";
import { validateObject } from "../support/kube-schema";
import { named, planned, planStack } from "../support/stack";

interface Captured {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A stand-in answering every request 204 and recording it. */
async function standIn(): Promise<{ url: string; requests: Captured[]; close: () => void }> {
  const requests: Captured[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      requests.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      res.writeHead(req.url!.startsWith("/fail") ? 500 : 204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, requests, close: () => server.close() };
}

/** Runs the script with sh; resolves with its exit code and output. */
function runScript(
  text: string,
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("sh", ["-c", text], { env: { PATH: process.env.PATH!, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe("the Job's name", () => {
  const topology = planned("pi-k3s");
  const versions = versionLines(deployVersions(topology));
  const script = notifyScript();

  test("is the same for the same stack and versions: an unchanged deploy has no diff", () => {
    expect(notifyJobName("pi-k3s", versions, script)).toBe(
      notifyJobName("pi-k3s", versionLines(deployVersions(planned("pi-k3s"))), notifyScript()),
    );
    expect(notifyJobManifest(topology).metadata).toEqual(notifyJobManifest(topology).metadata);
  });

  test("changes with a version, and differs per stack", () => {
    const bumped = versions.replace(
      `image/homepage ${IMAGES.homepage.tag}`,
      "image/homepage v9.9.9",
    );
    expect(bumped).not.toBe(versions);
    expect(notifyJobName("pi-k3s", bumped, script)).not.toBe(
      notifyJobName("pi-k3s", versions, script),
    );
    expect(notifyJobName("pi5-expansion", versions, script)).not.toBe(
      notifyJobName("pi-k3s", versions, script),
    );
    expect(notifyJobName("pi-k3s", versions, script)).toMatch(/^deploy-notify-[0-9a-f]{10}$/);
  });

  test("the summary lists k3s, the charts this stack installs and every pinned image", () => {
    const lines = versions.split("\n");
    expect(lines).toEqual(
      expect.arrayContaining([
        "k3s v1.33.6+k3s1",
        "chart/ingress-nginx 4.15.1",
        "chart/kube-prometheus-stack 88.5.3",
        "chart/cert-manager v1.21.1",
        "chart/external-secrets 1.2.0",
        `image/pihole ${IMAGES.pihole.tag}`,
      ]),
    );
    expect(lines.some((l) => l.startsWith("chart/traefik"))).toBe(false);
    expect(lines.some((l) => l.startsWith("chart/metallb"))).toBe(false);
    expect(lines).toHaveLength(1 + 4 + Object.keys(IMAGES).length);
    expect(longestMessage("pi-k3s", deployVersions(topology))).toBeLessThanOrEqual(2000);
  });

  test("the Job keeps no TTL, does not hold up `pulumi up`, and carries no webhook", () => {
    const job = notifyJobManifest(topology);
    expect(job.metadata!).toMatchObject({
      namespace: "deploy-notifications",
      annotations: { "pulumi.com/skipAwait": "true" },
    });
    expect(job.spec).not.toHaveProperty("ttlSecondsAfterFinished");
    expect(JSON.stringify(job)).not.toMatch(/discord(app)?\.com\/api\/webhooks/);
    const problems = validateObject({ apiVersion: "batch/v1", kind: "Job", ...job } as Record<
      string,
      unknown
    >);
    expect(problems).toEqual([]);
  });
});

describe("the script against a local stand-in", () => {
  let server: Awaited<ReturnType<typeof standIn>>;
  let dir: string;
  const secretPath = "/api/webhooks/123/SECRET-TOKEN";

  beforeEach(async () => {
    server = await standIn();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "notify-"));
    fs.mkdirSync(path.join(dir, "work"));
    fs.writeFileSync(path.join(dir, "webhook-url"), `${server.url}${secretPath}\n`);
    fs.writeFileSync(path.join(dir, "token"), "SA-TOKEN");
  });
  afterEach(() => {
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const script = () =>
    notifyScript({
      webhookFile: path.join(dir, "webhook-url"),
      lastFile: path.join(dir, "last"),
      tokenFile: path.join(dir, "token"),
      caFile: undefined,
      apiServer: server.url,
      workDir: path.join(dir, "work"),
    });
  const env = (versions: string) => ({ STACK: "pi-k3s", VERSIONS: versions });

  test("the first notice lists every version, then the set is recorded", async () => {
    const result = await runScript(script(), env("chart/a 1.0\nimage/b v2"));
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(server.requests.map((r) => [r.method, r.url])).toEqual([
      ["POST", secretPath],
      ["PATCH", `/api/v1/namespaces/deploy-notifications/configmaps/${LAST_NOTIFIED_CONFIGMAP}`],
    ]);
    const [post, patch] = server.requests;
    expect(post.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(post.body)).toEqual({
      content:
        "**pi-k3s** deployed by Pulumi: 2 versions (first notice)\n" +
        "**chart/a 1.0** (new)\n**image/b v2** (new)",
      allowed_mentions: { parse: [] },
    });
    expect(patch.headers.authorization).toBe("Bearer SA-TOKEN");
    expect(patch.headers["content-type"]).toBe("application/merge-patch+json");
    expect(JSON.parse(patch.body)).toEqual({ data: { versions: "chart/a 1.0\nimage/b v2" } });
    // Neither secret was printed.
    expect(result.stdout).not.toContain("SECRET-TOKEN");
    expect(result.stdout).not.toContain("SA-TOKEN");
  });

  test("one message marks what changed against the last set", async () => {
    fs.writeFileSync(path.join(dir, "last"), "chart/a 1.0\nimage/b v2\nimage/gone 1");
    const result = await runScript(script(), env("chart/a 1.1\nimage/b v2\nimage/c 3"));
    expect(result.code).toBe(0);
    expect(server.requests.filter((r) => r.method === "POST")).toHaveLength(1);
    expect(JSON.parse(server.requests[0].body).content).toBe(
      "**pi-k3s** deployed by Pulumi: 2 of 3 versions changed\n" +
        "**chart/a 1.1** (was 1.0)\nimage/b v2\n**image/c 3** (new)",
    );
  });

  test("nothing is sent when no version changed", async () => {
    fs.writeFileSync(path.join(dir, "last"), "chart/a 1.0\nimage/b v2\n");
    const result = await runScript(script(), env("chart/a 1.0\nimage/b v2"));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("no version changed since the last notice: nothing sent");
    expect(server.requests).toEqual([]);
  });

  test("a refused post fails the Job and records nothing", async () => {
    fs.writeFileSync(path.join(dir, "webhook-url"), `${server.url}/fail${secretPath}`);
    const result = await runScript(script(), env("chart/a 2.0"));
    expect(result.code).not.toBe(0);
    expect(server.requests.map((r) => r.method)).toEqual(["POST", "POST", "POST", "POST"]);
    expect(result.stderr).not.toContain("SECRET-TOKEN");
  }, 30_000);

  test("the webhook URL is never on a command line", () => {
    const text = script();
    // curl reads it from a config file the shell's printf builtin wrote.
    expect(text).toContain('printf \'url = "%s"\\n\' "$url" > "$work/discord.conf"');
    expect(text).toMatch(/curl [^\n]*-K "\$work\/discord\.conf"/);
    expect(text).not.toMatch(/curl[^\n]*\$url/);
    expect(text).not.toMatch(/echo[^\n]*\$url/);
  });
});

describe("in the pi-k3s plan", () => {
  test("the notifier's objects, its narrow Role and the synced webhook", async () => {
    const run = await planStack("pi-k3s");
    const role = named(run, "kubernetes:rbac.authorization.k8s.io/v1:Role", "deploy-notify");
    expect(role.inputs.rules).toEqual([
      {
        apiGroups: [""],
        resources: ["configmaps"],
        resourceNames: [LAST_NOTIFIED_CONFIGMAP],
        verbs: ["get", "patch"],
      },
    ]);
    const secret = named(
      run,
      "kubernetes:external-secrets.io/v1:ExternalSecret",
      "deploy-notifications-discord-webhook-external-secret",
    );
    expect(secret.inputs.spec).toMatchObject({
      data: [{ secretKey: "webhook-url", remoteRef: { key: "discord-alerts/webhook-url" } }],
    });
    const configMap = named(run, "kubernetes:core/v1:ConfigMap", LAST_NOTIFIED_CONFIGMAP);
    expect(configMap.options.ignoreChanges).toEqual(["data"]);
    const job = named(run, "kubernetes:batch/v1:Job", "deploy-notify");
    expect((job.inputs.metadata as { name: string }).name).toBe(
      (notifyJobManifest(run.topology).metadata as { name: string }).name,
    );
  }, 60_000);
});
