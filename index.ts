// Entry point for `pulumi preview` / `pulumi up`: the stack name picks the topology.
import * as pulumi from "@pulumi/pulumi";
import { runStack } from "./stacks";

export = runStack(pulumi.getStack()).outputs;
