/** One K3sNode on its own, under recording mocks (the single-component harness). */
import * as pulumi from "@pulumi/pulumi";
import { K3sNode } from "../../components/cluster/k3s-node";
import { canary } from "../../plan/mocks";
import { isSecretInput } from "../../plan/record";
import { runProgram } from "../../plan/run";
import { planned } from "../support/stack";

const topology = planned("pi-k3s");
const agent = topology.nodes.find((n) => n.hostname === "pi3-worker-1")!;
const args = {
  node: agent,
  k3s: topology.k3s,
  network: topology.network,
  privateKey: pulumi.secret(canary("op://pi-cluster/pi3-worker-1-ssh/private key")),
};

test("an agent runs every boot step, its token on stdin, then a never-replaced uninstall", async () => {
  const { resources } = await runProgram(
    "unit",
    {},
    () => new K3sNode("pi3-worker-1", { ...args, token: pulumi.secret(canary("k3s-token")) }),
  );
  const commands = resources.filter((r) => r.type === "command:remote:Command");
  expect(commands.map((c) => c.name)).toEqual([
    "pi3-worker-1/reachable",
    "pi3-worker-1/hostname",
    "pi3-worker-1/cgroups",
    "pi3-worker-1/swap",
    "pi3-worker-1/static-dns",
    "pi3-worker-1/packages",
    "pi3-worker-1/reboot",
    "pi3-worker-1/wait-for-boot",
    "pi3-worker-1/verify-cgroups",
    "pi3-worker-1/k3s-token",
    "pi3-worker-1/k3s-config",
    "pi3-worker-1/k3s-install",
    "pi3-worker-1/k3s-ready",
    "pi3-worker-1/uninstall",
  ]);
  for (const c of commands) expect(c.parent).toBe("pi-cluster:cluster:K3sNode::pi3-worker-1");
  const token = commands.find((c) => c.name === "pi3-worker-1/k3s-token")!;
  expect(isSecretInput(token.inputs.stdin)).toBe(true);
});

test("a node that needs the token file fails clearly without a token", async () => {
  await expect(runProgram("unit", {}, () => new K3sNode("pi3-worker-1", args))).rejects.toThrow(
    "K3sNode pi3-worker-1: this node reads the cluster token from a file; pass args.token",
  );
});
