/**
 * The shell the backup CronJobs run, as pure builders: the same text runs in the cluster and in
 * the tests (tests/apps/backups-restore.test.ts dumps, drops and restores a real PostgreSQL with
 * it). Every script fails (non-zero exit, so the Job fails and kube-prometheus-stack's
 * `KubeJobFailed` alert reaches Discord) when it wrote nothing or wrote something incomplete.
 */

/** The last line `pg_dumpall` writes; a dump without it was cut short. */
export const DUMP_COMPLETE_MARKER = "-- PostgreSQL database cluster dump complete";

/**
 * Immich's documented restore rewrites the dump's empty `search_path` so its extension types
 * resolve while the dump loads.
 * @see https://immich.app/docs/administration/backup-and-restore
 */
export const IMMICH_SEARCH_PATH_SED =
  "s/SELECT pg_catalog.set_config('search_path', '', false);/" +
  "SELECT pg_catalog.set_config('search_path', 'public, pg_catalog', true);/g";

/** Quotes a value for POSIX sh (single quotes; embedded ones closed and escaped). */
export function shQuote(value: string | number): string {
  return `'${String(value).replace(/'/g, `'\\''`)}'`;
}

/** The preamble of every script: stop at the first error, and in a pipeline where sh can. */
const PREAMBLE = [
  "set -eu",
  // busybox ash and bash know pipefail, dash does not; the checks below do not rely on it.
  "# shellcheck disable=SC3040",
  "if (set -o pipefail) 2>/dev/null; then set -o pipefail; fi",
  'fail() { echo "backup FAILED: $*" >&2; exit 1; }',
];

/** Keeps the newest `keep` entries matching a glob in a directory (names sort by date). */
function pruneFunction(): string[] {
  return [
    "prune() {",
    "  dir=$1 keep=$2 pattern=$3",
    // The names are the scripts' own timestamps: ls is safe here.
    "  # shellcheck disable=SC2012",
    '  ls -1 "$dir" | { grep -E "$pattern" || true; } | sort -r | awk -v keep="$keep" \'NR > keep\' |',
    '    while read -r old; do rm -rf "${dir:?}/$old"; echo "pruned $dir/$old"; done',
    "}",
  ];
}

/** One volume the weekly copy takes: the claim local-path made a directory for. */
export interface VolumeToCopy {
  readonly namespace: string;
  readonly claim: string;
}

/** What the volume copy reads and where it writes. */
export interface VolumeCopyOptions {
  /** Node the volumes live on (its folder on the NAS). */
  readonly node: string;
  readonly volumes: readonly VolumeToCopy[];
  /**
   * local-path's directory on the node, mounted read-only.
   * @default "/storage"
   */
  readonly source?: string;
  /** The NAS's backup export, mounted read-write. @default "/backup" */
  readonly target?: string;
  /** Weekly copies kept per node. @default 4 */
  readonly keep?: number;
}

/**
 * The volume copy: one `tar.gz` per claim into `<target>/volumes/<node>/<stamp>/`, written as
 * `<stamp>.partial` and renamed only when every archive is complete, then older copies pruned.
 * local-path names a claim's directory `<pv>_<namespace>_<claim>`; a claim with no directory,
 * two directories (a retained old volume beside a new one: which is live is not guessable), an
 * empty directory or an archive that does not test as complete fails the job.
 */
export function volumeCopyScript(options: VolumeCopyOptions): string {
  const source = options.source ?? "/storage";
  const target = options.target ?? "/backup";
  const keep = options.keep ?? 4;
  if (options.volumes.length === 0) {
    throw new Error(`volume copy for node ${options.node}: no volumes to copy`);
  }
  return [
    ...PREAMBLE,
    ...pruneFunction(),
    `src=${shQuote(source)}`,
    `root=${shQuote(`${target}/volumes/${options.node}`)}`,
    "stamp=$(date +%Y-%m-%dT%H%M%S)",
    'work="$root/$stamp.partial"',
    // A run that failed half-way leaves a .partial folder: never mistaken for a backup.
    'mkdir -p "$root"',
    'rm -rf "$root"/*.partial',
    'mkdir -p "$work"',
    "copy() {",
    "  ns=$1 claim=$2",
    '  set -- "$src"/*_"$ns"_"$claim"',
    '  [ -d "$1" ] || fail "$ns/$claim: no local-path directory *_${ns}_${claim} under $src"',
    '  [ "$#" -eq 1 ] || fail "$ns/$claim: $# directories match ($*); remove the stale one"',
    '  [ -n "$(ls -A "$1")" ] || fail "$ns/$claim: $1 is empty, nothing to back up"',
    '  archive="$work/${ns}_${claim}.tar.gz"',
    '  tar -czf "$archive" -C "$1" .',
    '  gzip -t "$archive" || fail "$ns/$claim: $archive is not a complete gzip stream"',
    '  files=$(tar -tzf "$archive" | grep -vc "/$" || true)',
    '  [ "$files" -gt 0 ] || fail "$ns/$claim: the archive holds no files"',
    '  echo "copied $ns/$claim: $files files, $(wc -c < "$archive") bytes"',
    "}",
    ...options.volumes.map((v) => `copy ${shQuote(v.namespace)} ${shQuote(v.claim)}`),
    'mv "$work" "$root/$stamp"',
    `prune "$root" ${keep} '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{6}$'`,
    'echo "volume backup complete: $root/$stamp"',
    "",
  ].join("\n");
}

/**
 * The checks a dump must pass, as a shell function `verify_dump <file> <min-bytes>`: the gzip
 * stream is whole, it is not suspiciously small, and `pg_dumpall`'s completion marker is among
 * its last lines (a dump cut short by a dropped connection has a valid gzip end but no marker).
 * The CronJob runs it after dumping and the restore runs it before loading.
 */
export function verifyDumpFunction(): string[] {
  return [
    "verify_dump() {",
    "  file=$1 min=$2",
    '  [ -s "$file" ] || fail "$file is missing or empty"',
    '  gzip -t "$file" 2>/dev/null || fail "$file is not a complete gzip stream (truncated?)"',
    '  size=$(wc -c < "$file")',
    '  [ "$size" -ge "$min" ] || fail "$file is $size bytes, under the $min-byte minimum"',
    `  gunzip -c "$file" | tail -n 5 | grep -qxF -- ${shQuote(DUMP_COMPLETE_MARKER)} ||`,
    '    fail "$file lacks pg_dumpall\'s completion marker: the dump was cut short"',
    "}",
  ];
}

/** One database to dump, with where its password is mounted. */
export interface DumpTarget {
  /** Folder name on the NAS and in messages, e.g. `immich`. */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** File holding the user's password (a mounted Secret key). */
  readonly passwordFile: string;
}

/** What the dump job dumps and where. */
export interface DumpOptions {
  readonly databases: readonly DumpTarget[];
  /** The NAS's backup export, mounted read-write. @default "/backup" */
  readonly target?: string;
  /** Dumps kept per database. @default 4 */
  readonly keep?: number;
  /** Smallest plausible compressed dump, in bytes. @default 65536 */
  readonly minBytes?: number;
}

/**
 * The dump, Immich's documented way: `pg_dumpall --clean --if-exists | gzip` per database into
 * `<target>/postgres/<name>/<stamp>.sql.gz`, written as `.partial`, verified, then renamed and
 * older dumps pruned. The password goes through the environment, never the command line.
 * @see https://immich.app/docs/administration/backup-and-restore
 */
export function dumpScript(options: DumpOptions): string {
  const target = options.target ?? "/backup";
  const keep = options.keep ?? 4;
  const minBytes = options.minBytes ?? 65536;
  if (options.databases.length === 0) throw new Error("dump: no databases to dump");
  return [
    ...PREAMBLE,
    ...pruneFunction(),
    ...verifyDumpFunction(),
    `root=${shQuote(`${target}/postgres`)}`,
    "stamp=$(date +%Y-%m-%dT%H%M%S)",
    "dump() {",
    "  name=$1 host=$2 port=$3 user=$4 passfile=$5",
    '  dir="$root/$name"',
    '  mkdir -p "$dir"',
    '  rm -f "$dir"/*.partial',
    '  out="$dir/$stamp.sql.gz"',
    '  PGPASSWORD=$(cat "$passfile") pg_dumpall --clean --if-exists \\',
    '    --host="$host" --port="$port" --username="$user" --no-password | gzip > "$out.partial"',
    `  verify_dump "$out.partial" ${minBytes}`,
    '  mv "$out.partial" "$out"',
    `  prune "$dir" ${keep} '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{6}[.]sql[.]gz$'`,
    '  echo "dumped $name: $out, $(wc -c < "$out") bytes"',
    "}",
    ...options.databases.map((d) =>
      ["dump", d.name, d.host, d.port, d.user, d.passwordFile].map(shQuote).join(" "),
    ),
    "",
  ].join("\n");
}

/** Where a restore loads a dump into. */
export interface RestoreOptions {
  /** The dump file (`.sql.gz`). */
  readonly dump: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** File holding the password; without it psql uses PGPASSWORD or ~/.pgpass. */
  readonly passwordFile?: string;
  /** As the dump job checks. @default 65536 */
  readonly minBytes?: number;
}

/**
 * Immich's documented restore: verify the dump with the same checks the CronJob ran, then
 * `gunzip | sed <search_path> | psql` into the `postgres` database of a fresh (or the same)
 * server. No ON_ERROR_STOP, as upstream: `--clean` drops what exists and `DROP ROLE` of the
 * connected user fails harmlessly.
 */
export function restoreScript(options: RestoreOptions): string {
  const password = options.passwordFile
    ? [`PGPASSWORD=$(cat ${shQuote(options.passwordFile)})`, "export PGPASSWORD"]
    : [];
  return [
    ...PREAMBLE,
    ...verifyDumpFunction(),
    `verify_dump ${shQuote(options.dump)} ${options.minBytes ?? 65536}`,
    ...password,
    `gunzip < ${shQuote(options.dump)} | sed ${shQuote(IMMICH_SEARCH_PATH_SED)} |`,
    `  psql --host=${shQuote(options.host)} --port=${options.port} ` +
      `--username=${shQuote(options.user)} --dbname=postgres --quiet --no-password`,
    'echo "restore complete"',
    "",
  ].join("\n");
}

const CRON_FIELDS = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day-of-month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12 },
  // 0 and 7 are both Sunday.
  { name: "day-of-week", min: 0, max: 7 },
] as const;

/**
 * Why a string is not a 5-field numeric cron expression (`*`, `n`, `a-b`, `*\/n`, `a-b/n` and
 * comma lists, each number within its field's range), or undefined when it is one.
 */
export function cronProblem(expression: string): string | undefined {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5) return `it has ${fields.length} field(s), not 5`;
  for (const [i, field] of fields.entries()) {
    const { name, min, max } = CRON_FIELDS[i];
    for (const part of field.split(",")) {
      const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
      if (!m) return `${name} "${part}" is not *, a number, a range a-b or a step /n`;
      const [, , from, to, step] = m;
      for (const n of [from, to].filter((x) => x !== undefined).map(Number)) {
        if (n < min || n > max) return `${name} ${n} is outside ${min}-${max}`;
      }
      if (from !== undefined && to !== undefined && Number(from) > Number(to)) {
        return `${name} range ${from}-${to} runs backwards`;
      }
      if (step !== undefined && Number(step) === 0) return `${name} step /0 never fires`;
    }
  }
  return undefined;
}
