/**
 * A broken Pulumi.<stack>.yaml fails like any other config error: the file, the line and column,
 * what is wrong, and no stack trace, both from readStackConfigFile and from `npm run plan`.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT_ROOT, readStackConfigFile } from "../../plan/run";
import { ConfigError } from "../../topology/errors";

const roots: string[] = [];
afterAll(() => roots.forEach((r) => fs.rmSync(r, { recursive: true, force: true })));

/** A temp project root holding one stack file with `text`. */
function rootWith(stack: string, text: string): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "pi-cluster-stackfile-"));
  roots.push(root);
  fs.writeFileSync(path.join(root, `Pulumi.${stack}.yaml`), text);
  return root;
}

/** The real pi-k3s file with one line replaced (1-based), to break it like a user would. */
function brokenPiK3s(line: number, replacement: string): string {
  const lines = fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.pi-k3s.yaml"), "utf8").split("\n");
  lines[line - 1] = replacement;
  return lines.join("\n");
}

function messagesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => p.message);
    throw error;
  }
  throw new Error("expected a ConfigError");
}

const SECRET = "ops_eyJzaWduSW5BZGRyZXNzIjoibXkuMXBhc3N3b3JkLmNvbSJ9";

const cases: { rule: string; text: string; messages: string[] }[] = [
  {
    rule: "YAML syntax error (unclosed flow list)",
    text: "config:\n  pi-cluster:network:\n    nodeDns: [1.1.1.1, 8.8.8.8\n    nas: 192.168.1.60\n",
    messages: [
      "Pulumi.pi-k3s.yaml:4:5: Flow sequence in block collection must be sufficiently indented and end with a ]",
    ],
  },
  {
    rule: "tab as indentation",
    text: "config:\n\tpi-cluster:ssh:\n",
    messages: ["Pulumi.pi-k3s.yaml:2:1: Tabs are not allowed as indentation"],
  },
  {
    rule: "duplicated key (the second would silently win)",
    text: "config:\n  pi-cluster:ssh:\n    user: pi\n    user: mtgibbs\n",
    messages: [
      'Pulumi.pi-k3s.yaml:4:5: the key "user" is given twice in the same map; keep one (the second would silently win)',
    ],
  },
  {
    rule: "duplicated key holding a pasted secret: named, never quoted",
    text: `config:\n  pi-cluster:secrets:\n    discordWebhook: op://pi-cluster/discord-alerts/webhook-url\n    discordWebhook: ${SECRET}\n`,
    messages: [
      'Pulumi.pi-k3s.yaml:4:5: the key "discordWebhook" is given twice in the same map; keep one (the second would silently win)',
    ],
  },
  {
    rule: "config is not a map",
    text: "config: [1, 2]\n",
    messages: ['Pulumi.pi-k3s.yaml: "config:" is not a map of config keys to values'],
  },
];

describe("readStackConfigFile", () => {
  test.each(cases.map((c) => [c.rule, c] as const))("%s", (_rule, c) => {
    const root = rootWith("pi-k3s", c.text);
    expect(messagesOf(() => readStackConfigFile("pi-k3s", root))).toEqual(c.messages);
  });

  test("a duplicated top-level config key in the real file is caught with its line", () => {
    const real = fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.pi-k3s.yaml"), "utf8");
    const text = `${real.trimEnd()}\n  pi-cluster:ssh:\n    user: pi\n`;
    const line = text.trimEnd().split("\n").length - 1;
    const root = rootWith("pi-k3s", text);
    const [message] = messagesOf(() => readStackConfigFile("pi-k3s", root));
    expect(message).toBe(
      `Pulumi.pi-k3s.yaml:${line}:3: the key "pi-cluster:ssh" is given twice in the same map; keep one (the second would silently win)`,
    );
  });

  test("a missing file names the file and the directory", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "pi-cluster-stackfile-"));
    roots.push(root);
    expect(messagesOf(() => readStackConfigFile("pi-k3s", root))).toEqual([
      `Pulumi.pi-k3s.yaml: no such file in ${root}; create it or pick a known stack`,
    ]);
  });

  test("the error header names the stack file like every config error", () => {
    const root = rootWith("pi-k3s", cases[0].text);
    expect(() => readStackConfigFile("pi-k3s", root)).toThrow(
      /^invalid config for stack "pi-k3s" \(Pulumi\.pi-k3s\.yaml\), 1 problem\(s\):\n  - Pulumi\.pi-k3s\.yaml:4:5: /,
    );
  });
});

describe("npm run plan on a broken stack file", () => {
  test("exits 1 naming the file and line, with no stack trace", () => {
    const root = rootWith("pi-k3s", brokenPiK3s(20, "    nas: [192.168.1.60"));
    const run = spawnSync(
      process.execPath,
      [require.resolve("tsx/cli"), "plan/cli.ts", "pi-k3s", "--config-dir", root],
      { cwd: PROJECT_ROOT, encoding: "utf8" },
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/Pulumi\.pi-k3s\.yaml:\d+:\d+: /);
    expect(run.stderr).toContain('invalid config for stack "pi-k3s" (Pulumi.pi-k3s.yaml)');
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(run.stdout).toBe("");
  });
});
