/**
 * Restore is proven, not assumed: the dump and restore scripts the CronJob and the runbook run
 * are executed against a real PostgreSQL started here (Debian's `postgresql`, installed by
 * .ci/run), and the volume copy against fake local-path directories and a fake NAS folder.
 */
import { execFileSync, spawnSync, SpawnSyncReturns } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import {
  DUMP_COMPLETE_MARKER,
  dumpScript,
  restoreScript,
  volumeCopyScript,
} from "../../components/apps/backups/scripts";

// Debian's server binaries, newest major installed (15 on bookworm).
const PG_BIN = `/usr/lib/postgresql/${
  fs.readdirSync("/usr/lib/postgresql").sort((a, b) => Number(b) - Number(a))[0]
}/bin`;
const isRoot = process.getuid?.() === 0;
// initdb refuses to run as root: the server and the scripts run as the `postgres` user then.
const pgUser = isRoot ? Number(execFileSync("id", ["-u", "postgres"]).toString().trim()) : null;

/** Runs a command (as postgres when we are root) with the server binaries on PATH. */
function run(command: string, args: string[], env: Record<string, string> = {}) {
  const fullEnv = { ...process.env, PATH: `${PG_BIN}:${process.env.PATH}`, ...env };
  const [cmd, argv] = isRoot
    ? ["runuser", ["-u", "postgres", "--", "env", `PATH=${fullEnv.PATH}`, command, ...args]]
    : [command, args];
  return spawnSync(cmd, argv, { env: fullEnv, encoding: "utf8", cwd: os.tmpdir() });
}

function ok(result: SpawnSyncReturns<string>): string {
  if (result.status !== 0) {
    throw new Error(`exit ${result.status}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  }
  return result.stdout;
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), "pg-restore-"));
const socket = path.join(root, "socket");
const data = path.join(root, "data");
const nas = path.join(root, "nas");
const passwordFile = path.join(root, "password");
const port = 20000 + Math.floor(Math.random() * 20000);
const server = { host: socket, port, user: "postgres" };

function psql(sql: string, database = "immich"): string {
  return ok(
    run(
      "psql",
      [
        `--host=${socket}`,
        `--port=${port}`,
        "--username=postgres",
        `--dbname=${database}`,
        "--no-password",
        "--tuples-only",
        "--no-align",
        "--set=ON_ERROR_STOP=1",
        "--command",
        sql,
      ],
      { PGPASSWORD: "s3cret'pw" },
    ),
  ).trim();
}

function script(name: string, text: string): string {
  const file = path.join(root, name);
  fs.writeFileSync(file, text);
  return file;
}

function dumps(): string[] {
  const dir = path.join(nas, "postgres", "immich-postgresql");
  return fs.existsSync(dir) ? fs.readdirSync(dir).map((f) => path.join(dir, f)) : [];
}

beforeAll(() => {
  for (const dir of [socket, nas]) fs.mkdirSync(dir);
  // A quote in the password proves it never passes through a shell word unquoted.
  fs.writeFileSync(passwordFile, "s3cret'pw");
  if (pgUser !== null) {
    for (const p of [root, socket, nas, passwordFile]) fs.chownSync(p, pgUser, pgUser);
  }
  ok(
    run("initdb", [
      "-D",
      data,
      "-U",
      "postgres",
      "-A",
      "scram-sha-256",
      `--pwfile=${passwordFile}`,
    ]),
  );
  ok(
    run("pg_ctl", [
      "-D",
      data,
      "-w",
      "-l",
      path.join(root, "server.log"),
      "-o",
      `-k ${socket} -p ${port} -c listen_addresses=''`,
      "start",
    ]),
  );
  psql("CREATE DATABASE immich", "postgres");
  psql(
    "CREATE TABLE assets (id serial PRIMARY KEY, path text NOT NULL, taken timestamptz);" +
      "INSERT INTO assets (path, taken) SELECT 'upload/' || g || '.jpg', " +
      "'2024-01-01'::timestamptz + g * interval '1 hour' FROM generate_series(1, 500) g;" +
      "CREATE ROLE immich_reader LOGIN PASSWORD 'x'; GRANT SELECT ON assets TO immich_reader;",
  );
}, 60_000);

afterAll(() => {
  run("pg_ctl", ["-D", data, "-m", "immediate", "stop"]);
  fs.rmSync(root, { recursive: true, force: true });
});

const dump = () =>
  run("bash", [
    script(
      "dump.sh",
      dumpScript({
        databases: [{ name: "immich-postgresql", ...server, passwordFile }],
        target: nas,
        // The test database is tiny; the CronJob's floor is 64 KiB.
        minBytes: 1024,
      }),
    ),
  ]);

const restore = (file: string) =>
  run("bash", [
    script("restore.sh", restoreScript({ dump: file, ...server, passwordFile, minBytes: 1024 })),
  ]);

test("dump, drop, restore: every row comes back", () => {
  const before = psql(
    "SELECT count(*), md5(string_agg(path || taken, ',' ORDER BY id)) FROM assets",
  );
  const output = ok(dump());
  expect(output).toMatch(/^dumped immich-postgresql: .*\.sql\.gz, \d+ bytes$/m);
  const [file] = dumps();
  expect(path.basename(file)).toMatch(/^\d{4}-\d\d-\d\dT\d{6}\.sql\.gz$/);
  const text = zlib.gunzipSync(fs.readFileSync(file)).toString();
  expect(text).toContain(DUMP_COMPLETE_MARKER);
  expect(text).toContain("DROP DATABASE IF EXISTS immich;");

  psql("DROP DATABASE immich", "postgres");
  psql("DROP ROLE immich_reader", "postgres");
  expect(psql("SELECT count(*) FROM pg_database WHERE datname = 'immich'", "postgres")).toBe("0");

  expect(ok(restore(file))).toContain("restore complete");
  expect(psql("SELECT count(*), md5(string_agg(path || taken, ',' ORDER BY id)) FROM assets")).toBe(
    before,
  );
  expect(before.startsWith("500|")).toBe(true);
  expect(psql("SELECT has_table_privilege('immich_reader', 'assets', 'SELECT')")).toBe("t");
}, 60_000);

describe("a broken dump is refused by the checks the CronJob runs", () => {
  const good = () => fs.readFileSync(dumps()[0]);

  test("a gzip stream cut short", () => {
    const file = path.join(root, "cut.sql.gz");
    const bytes = good();
    fs.writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const result = restore(file);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      `backup FAILED: ${file} is not a complete gzip stream (truncated?)`,
    );
  });

  test("a whole gzip stream of a dump that stopped early (no completion marker)", () => {
    const file = path.join(root, "early.sql.gz");
    const lines = zlib.gunzipSync(good()).toString().split("\n");
    fs.writeFileSync(
      file,
      zlib.gzipSync(lines.slice(0, Math.floor(lines.length * 0.8)).join("\n") + "\n"),
    );
    const result = restore(file);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      `backup FAILED: ${file} lacks pg_dumpall's completion marker: the dump was cut short`,
    );
  });

  test("a dump that could not connect writes no backup and fails the job", () => {
    const before = dumps().filter((f) => f.endsWith(".sql.gz")).length;
    const wrong = path.join(root, "wrong-password");
    fs.writeFileSync(wrong, "nope");
    if (pgUser !== null) fs.chownSync(wrong, pgUser, pgUser);
    const result = run("bash", [
      script(
        "dump-wrong.sh",
        dumpScript({
          databases: [{ name: "immich-postgresql", ...server, passwordFile: wrong }],
          target: nas,
          minBytes: 1024,
        }),
      ),
    ]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("password authentication failed");
    expect(dumps().filter((f) => f.endsWith(".sql.gz"))).toHaveLength(before);
  });
});

describe("volume copy", () => {
  const storage = path.join(root, "storage");
  const target = path.join(root, "nas-volumes");
  const copy = (volumes: { namespace: string; claim: string }[], keep = 2) =>
    spawnSync(
      "sh",
      [
        script(
          "copy.sh",
          volumeCopyScript({ node: "pi-k3s", volumes, source: storage, target, keep }),
        ),
      ],
      { encoding: "utf8" },
    );
  const copies = () => fs.readdirSync(path.join(target, "volumes", "pi-k3s")).sort();

  beforeAll(() => {
    fs.mkdirSync(path.join(storage, "pvc-1_immich_immich-postgresql", "pgdata"), {
      recursive: true,
    });
    fs.writeFileSync(
      path.join(storage, "pvc-1_immich_immich-postgresql", "pgdata", "PG_VERSION"),
      "14\n",
    );
    fs.mkdirSync(path.join(storage, "pvc-2_pihole_pihole-etc"));
    fs.writeFileSync(path.join(storage, "pvc-2_pihole_pihole-etc", "pihole.toml"), "[dns]\n");
    fs.mkdirSync(path.join(storage, "pvc-3_jellyfin_jellyfin-config"));
  });

  test("copies each claim's directory into a dated folder and keeps the newest copies", () => {
    fs.mkdirSync(path.join(target, "volumes", "pi-k3s", "2020-01-05T020000"), { recursive: true });
    fs.mkdirSync(path.join(target, "volumes", "pi-k3s", "2020-01-12T020000"));
    const result = copy([
      { namespace: "immich", claim: "immich-postgresql" },
      { namespace: "pihole", claim: "pihole-etc" },
    ]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("copied immich/immich-postgresql: 1 files");
    expect(result.stdout).toContain("pruned");
    const kept = copies();
    expect(kept).toHaveLength(2);
    expect(kept[0]).toBe("2020-01-12T020000");
    const newest = path.join(target, "volumes", "pi-k3s", kept[1]);
    expect(fs.readdirSync(newest).sort()).toEqual([
      "immich_immich-postgresql.tar.gz",
      "pihole_pihole-etc.tar.gz",
    ]);
    const listing = execFileSync("tar", ["-tzf", path.join(newest, "pihole_pihole-etc.tar.gz")]);
    expect(listing.toString()).toContain("./pihole.toml");
  });

  test.each([
    [
      "an empty volume",
      { namespace: "jellyfin", claim: "jellyfin-config" },
      "is empty, nothing to back up",
    ],
    [
      "a claim with no directory",
      { namespace: "immich", claim: "immich-library" },
      "immich/immich-library: no local-path directory *_immich_immich-library",
    ],
  ])("%s fails the job and leaves no copy", (_what, volume, message) => {
    const complete = () => copies().filter((c) => !c.endsWith(".partial"));
    const before = complete();
    const result = copy([{ namespace: "pihole", claim: "pihole-etc" }, volume]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`backup FAILED: ${volume.namespace}/${volume.claim}`);
    expect(result.stderr).toContain(message);
    // Only the half-written .partial folder, which the next run clears.
    expect(complete()).toEqual(before);
  });

  test("two directories for one claim (a retained old volume) fail rather than guess", () => {
    fs.mkdirSync(path.join(storage, "pvc-9_pihole_pihole-etc"));
    const result = copy([{ namespace: "pihole", claim: "pihole-etc" }]);
    fs.rmdirSync(path.join(storage, "pvc-9_pihole_pihole-etc"));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("pihole/pihole-etc: 2 directories match");
  });
});
