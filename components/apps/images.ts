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
    tag: "2026.07.0",
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
  curl: {
    repository: "docker.io/curlimages/curl",
    // Alpine with curl and busybox (sh, sed, grep, awk), no jq; runs as curl_user (uid 100).
    tag: "8.17.0",
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
