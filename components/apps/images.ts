/**
 * Every container image the apps run, pinned to an exact tag in this one table, with where the
 * tag comes from. Manifests take images only through `image()`, so one image never runs at two
 * tags; a test refuses `latest`, a missing tag and any image in a plan that is not from here.
 */

/** One pinned image. */
export interface PinnedImage {
  /** Registry and repository, e.g. `docker.io/pihole/pihole`. */
  readonly repository: string;
  /** Exact release tag (never `latest` or a floating major such as `2`). */
  readonly tag: string;
  /** Where the release is published: read it before bumping the tag. */
  readonly source: string;
}

export const IMAGES = {
  pihole: {
    repository: "docker.io/pihole/pihole",
    tag: "2026.07.2",
    source: "https://github.com/pi-hole/docker-pi-hole/releases",
  },
  unbound: {
    repository: "docker.io/madnuttah/unbound",
    tag: "1.26.0-0",
    source: "https://github.com/madnuttah/unbound-docker/releases",
  },
  piholeExporter: {
    repository: "docker.io/ekofr/pihole-exporter",
    tag: "v1.2.0",
    source: "https://github.com/eko/pihole-exporter/releases",
  },
  uptimeKuma: {
    repository: "docker.io/louislam/uptime-kuma",
    tag: "2.5.3",
    source: "https://github.com/louislam/uptime-kuma/releases",
  },
  autokuma: {
    repository: "ghcr.io/bigboot/autokuma",
    tag: "2.0.0",
    source: "https://github.com/BigBoot/AutoKuma/releases",
  },
  homepage: {
    repository: "ghcr.io/gethomepage/homepage",
    tag: "v1.12.3",
    source: "https://github.com/gethomepage/homepage/releases",
  },
  // The last 10.x: the live cluster runs 10.x and its plugins do not load on 12.x (README, Jellyfin).
  jellyfin: {
    repository: "docker.io/jellyfin/jellyfin",
    tag: "10.11.11",
    source: "https://github.com/jellyfin/jellyfin/releases",
  },
  // Backups (components/apps/backups): tar and gzip for the volume copy.
  alpine: {
    repository: "docker.io/library/alpine",
    tag: "3.22.2",
    source: "https://alpinelinux.org/releases/",
  },
  // The dump client's major must match the server's: Immich's Postgres is 14 (its
  // ghcr.io/immich-app/postgres:14-vectorchord... image); bump both together.
  postgresClient: {
    repository: "docker.io/library/postgres",
    tag: "14.20-alpine",
    source: "https://www.postgresql.org/support/versioning/",
  },
  // Immich (seed 000: v2.4.1). The chart takes one tag for server and machine learning.
  immichServer: {
    repository: "ghcr.io/immich-app/immich-server",
    tag: "v2.4.1",
    source: "https://github.com/immich-app/immich/releases",
  },
  immichMachineLearning: {
    repository: "ghcr.io/immich-app/immich-machine-learning",
    tag: "v2.4.1",
    source: "https://github.com/immich-app/immich/releases",
  },
  // PG 14 as the user's pgvecto.rs database, with both VectorChord 0.4.3 and pgvecto.rs 0.2.0 so
  // v2.4.1 can move the vectors over (the tag Immich's own docker-compose.yml pins).
  immichPostgres: {
    repository: "ghcr.io/immich-app/postgres",
    tag: "14-vectorchord0.4.3-pgvectors0.2.0",
    source: "https://github.com/immich-app/base-images/pkgs/container/postgres",
  },
  // Small HTTP jobs: the deploy notifier and the site updater (curl and busybox sh, no jq).
  curl: {
    repository: "docker.io/curlimages/curl",
    // Alpine with curl and busybox (sh, sed, grep, awk), no jq; runs as curl_user (uid 100).
    tag: "8.21.0",
    source: "https://github.com/curl/curl-container/releases",
  },
} as const satisfies Record<string, PinnedImage>;

export type ImageName = keyof typeof IMAGES;

/** `repository:tag` of a pinned image, for a container's `image`. */
export function image(name: ImageName): string {
  const { repository, tag } = IMAGES[name];
  return `${repository}:${tag}`;
}

/**
 * An image whose tag is not pinned here: an in-cluster updater keeps it on the publisher's newest
 * build matching `tagPattern`, and the stack pins only the tag a first create starts from.
 */
export interface TrackedImage {
  readonly repository: string;
  /** Extended regular expression every tag it may run matches. */
  readonly tagPattern: string;
  readonly source: string;
  /** What moves the tag. */
  readonly updatedBy: string;
}

export const TRACKED_IMAGES = {
  personalSite: {
    repository: "ghcr.io/mtgibbs/mtgibbs.xyz",
    // Seed 003: the site's CI tags each build YYYYMMDDHHmmss (plus a git SHA and latest).
    tagPattern: "^[0-9]{14}$",
    source: "https://github.com/mtgibbs/mtgibbs.xyz/pkgs/container/mtgibbs.xyz",
    updatedBy: "CronJob mtgibbs-site/mtgibbs-site-updater (components/apps/personal-site)",
  },
} as const satisfies Record<string, TrackedImage>;

/**
 * `repository:tag` of a tracked image.
 * @throws Error when the tag does not match the image's pattern (config is validated earlier)
 */
export function trackedImage(name: keyof typeof TRACKED_IMAGES, tag: string): string {
  const { repository, tagPattern } = TRACKED_IMAGES[name];
  if (!new RegExp(tagPattern).test(tag)) {
    throw new Error(`${repository}: tag ${tag} does not match ${tagPattern}`);
  }
  return `${repository}:${tag}`;
}
