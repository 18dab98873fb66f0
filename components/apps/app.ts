/**
 * What an app module exports: its plan-time definition (config section, secrets, workloads,
 * catalog entries, monitors; see topology/apps.ts) plus `deploy`, which declares its resources
 * once the platform exists. `stacks/<stack>.ts` lists the modules a stack runs.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { AppDefinition, DatabaseSpec, PlannedVolume } from "../../topology/apps";
import { CatalogEntry, NonWebMonitor } from "../../topology/catalog";
import { Topology } from "../../topology/types";
import { Platform } from "../platform/platform";

/** What an app's component is given when it deploys. */
export interface AppContext {
  readonly topology: Topology;
  /** Provider of the k3s cluster. */
  readonly provider: k8s.Provider;
  /** External Secrets (ExternalSecrets for the app), storage classes, monitoring, ingress. */
  readonly platform: Platform;
  /** The stack's whole catalog (platform and every app), for the dashboard and the monitors. */
  readonly catalog: readonly CatalogEntry[];
  /** Every app's and the platform's non-web monitors. */
  readonly monitors: readonly NonWebMonitor[];
  /** Every stateful volume of the stack as deployed (for the backups). */
  readonly volumes: readonly PlannedVolume[];
  /** Every app's databases (for the dumps). */
  readonly databases: readonly DatabaseSpec[];
  /** Resources everything on the cluster waits for (every node joined and ready). */
  readonly nodesReady: readonly pulumi.Resource[];
}

/** What every app component is constructed with: its parsed config section and the context. */
export interface AppArgs<C> {
  readonly config: C;
  readonly context: AppContext;
}

/** An app: its definition and how it deploys. */
export interface AppModule<C> extends AppDefinition<C> {
  /** Declares the app's resources (one component, named after the app). */
  deploy(config: C, context: AppContext, opts: pulumi.ComponentResourceOptions): pulumi.Resource;
}

/** An app module of any config type (each reads back only its own section). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see AnyApp in topology/apps.ts
export type AnyAppModule = AppModule<any>;

/** Declares an app module with its config type inferred from the schema. */
export function defineAppModule<C>(app: AppModule<C>): AppModule<C> {
  return app;
}

/** The app's own parsed config section from the plan. */
export function appConfig<C>(topology: Topology, app: AppDefinition<C>): C {
  if (!(app.name in topology.apps)) {
    throw new Error(`app "${app.name}" was not planned: list it in the stack's apps`);
  }
  return topology.apps[app.name] as C;
}
