/**
 * Homepage's configuration files, generated: `services.yaml` from the catalog (every entry with a
 * dashboard tile, in its group, with icon, description, link, site monitor and live widget), the
 * widgets and settings from the app's config. Widget secrets never enter these files: each is a
 * `{{HOMEPAGE_VAR_*}}` placeholder filled from an ExternalSecret.
 * @see https://gethomepage.dev/configs/services/
 */
import * as YAML from "yaml";
import { CatalogEntry, entryTitle, entryUrl, isRouted } from "../../../topology/catalog";

/** A dashboard group's place and shape (`settings.yaml` layout). */
export interface GroupLayout {
  readonly name: string;
  /** Tiles per row. */
  readonly columns?: number;
  /** `row` lays tiles out side by side (what `columns` needs). @default "row" */
  readonly style?: "row" | "column";
}

/** What the generated files depend on besides the catalog. */
export interface HomepageSettings {
  readonly title: string;
  readonly theme: "dark" | "light";
  readonly color: string;
  /** Groups in dashboard order; groups not listed follow in catalog order. */
  readonly groups: readonly GroupLayout[];
  readonly weather?: {
    readonly label: string;
    readonly latitude: number;
    readonly longitude: number;
    readonly units: "imperial" | "metric";
  };
  readonly search: { readonly provider: string };
}

/** One `HOMEPAGE_VAR_*` a widget reads, and where its value comes from. */
export interface WidgetSecretEnv {
  /** The environment variable, e.g. `HOMEPAGE_VAR_PIHOLE_KEY`. */
  readonly env: string;
  /** The catalog entry it belongs to (its ExternalSecret is `homepage-<entry>`). */
  readonly entry: string;
  /** Key in that Secret (the widget key, e.g. `key`). */
  readonly secretKey: string;
  /** The `pi-cluster:secrets` key whose 1Password reference fills it. */
  readonly source: string;
}

/** `HOMEPAGE_VAR_<ENTRY>_<FIELD>`, upper-case with `_` for anything else. */
export function widgetEnvName(entry: string, field: string): string {
  return `HOMEPAGE_VAR_${`${entry}_${field}`.toUpperCase().replace(/[^A-Z0-9]+/g, "_")}`;
}

/** The ExternalSecret (and Secret) holding one entry's widget secrets. */
export function widgetSecretName(entry: string): string {
  return `homepage-${entry}`;
}

/** Every widget secret the catalog's tiles read. */
export function widgetSecrets(catalog: readonly CatalogEntry[]): WidgetSecretEnv[] {
  return catalog.flatMap((entry) =>
    Object.entries(entry.dashboard?.widget?.secrets ?? {}).map(([field, source]) => ({
      env: widgetEnvName(entry.name, field),
      entry: entry.name,
      secretKey: field,
      source,
    })),
  );
}

/** The groups in dashboard order: the configured ones first, then the rest as they appear. */
export function groupOrder(
  catalog: readonly CatalogEntry[],
  layout: readonly GroupLayout[],
): string[] {
  const used = [...new Set(catalog.flatMap((e) => (e.dashboard ? [e.dashboard.group] : [])))];
  return [
    ...layout.map((g) => g.name).filter((g) => used.includes(g)),
    ...used.filter((g) => !layout.some((l) => l.name === g)),
  ];
}

/** `services.yaml`: every catalog entry with a tile, grouped. */
export function servicesYaml(
  catalog: readonly CatalogEntry[],
  domain: string,
  layout: readonly GroupLayout[],
): string {
  const groups = groupOrder(catalog, layout).map((group) => ({
    [group]: catalog
      .filter((entry) => entry.dashboard?.group === group)
      .map((entry) => {
        const tile = entry.dashboard!;
        const href = entryUrl(entry, domain);
        const monitored =
          entry.monitor !== false && (isRouted(entry) || entry.monitor !== undefined);
        const widget = tile.widget
          ? {
              type: tile.widget.type,
              url: tile.widget.url,
              ...(tile.widget.options ?? {}),
              ...Object.fromEntries(
                Object.keys(tile.widget.secrets ?? {}).map((field) => [
                  field,
                  `{{${widgetEnvName(entry.name, field)}}}`,
                ]),
              ),
            }
          : undefined;
        return {
          [entryTitle(entry)]: {
            icon: tile.icon,
            ...(href ? { href } : {}),
            description: tile.description,
            // The tile's dot: Homepage's server fetches the same URL a person opens.
            ...(href && monitored ? { siteMonitor: href } : {}),
            ...(widget ? { widget } : {}),
          },
        };
      }),
  }));
  return YAML.stringify(groups, { lineWidth: 0 });
}

/** `settings.yaml`: title, dark theme, and the groups' order and columns. */
export function settingsYaml(settings: HomepageSettings, catalog: readonly CatalogEntry[]): string {
  const layout = Object.fromEntries(
    groupOrder(catalog, settings.groups).map((group) => {
      const configured = settings.groups.find((g) => g.name === group);
      return [
        group,
        {
          style: configured?.style ?? "row",
          ...(configured?.columns ? { columns: configured.columns } : {}),
        },
      ];
    }),
  );
  return YAML.stringify(
    {
      title: settings.title,
      theme: settings.theme,
      color: settings.color,
      headerStyle: "boxed",
      statusStyle: "dot",
      hideVersion: true,
      layout,
    },
    { lineWidth: 0 },
  );
}

/** `widgets.yaml`: cluster and node figures, search, and the weather (seed 003). */
export function widgetsYaml(settings: HomepageSettings): string {
  return YAML.stringify(
    [
      {
        kubernetes: {
          cluster: { show: true, cpu: true, memory: true, showLabel: true, label: "cluster" },
          nodes: { show: true, cpu: true, memory: true, showLabel: true },
        },
      },
      { resources: { cpu: true, memory: true } },
      { search: { provider: settings.search.provider, target: "_blank" } },
      ...(settings.weather
        ? [
            {
              openmeteo: {
                label: settings.weather.label,
                latitude: settings.weather.latitude,
                longitude: settings.weather.longitude,
                units: settings.weather.units,
                cache: 5,
              },
            },
          ]
        : []),
    ],
    { lineWidth: 0 },
  );
}

/** Every file of Homepage's config directory, by name. */
export function homepageFiles(
  settings: HomepageSettings,
  catalog: readonly CatalogEntry[],
  domain: string,
): Record<string, string> {
  return {
    "settings.yaml": settingsYaml(settings, catalog),
    "services.yaml": servicesYaml(catalog, domain, settings.groups),
    "widgets.yaml": widgetsYaml(settings),
    // The kubernetes widget and status read the cluster through the pod's ServiceAccount.
    "kubernetes.yaml": YAML.stringify({ mode: "cluster" }),
    "bookmarks.yaml": YAML.stringify([]),
    "docker.yaml": YAML.stringify({}),
    "proxmox.yaml": YAML.stringify({}),
    "custom.css": "",
    "custom.js": "",
  };
}
