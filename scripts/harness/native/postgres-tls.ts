import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../free-port';
import { createCertificateAuthority, issueServerCertificate } from './certificates';

/** A throwaway PostgreSQL cluster that takes TCP clients over TLS only. */
export interface TlsPostgres {
  readonly port: number;
  /** The CA that issued the server's certificate (PEM): the `sslrootcert` a client trusts. */
  readonly caFile: string;
  readonly database: string;
  /** How long initdb, the certificates and the start took, in milliseconds. */
  readonly startMs: number;
  /**
   * A postgres:// URL to the cluster's database with `sslmode` as given (left out when
   * undefined) and `sslrootcert` when `rootcert` is given. `host` defaults to 127.0.0.1; the
   * server also listens on 127.0.0.2, an address its certificate does not name.
   */
  url(sslmode: string | undefined, options?: { rootcert?: string; host?: string }): string;
  /** Stops the server and removes its data, certificates and logs. */
  stop(): Promise<void>;
}

/** The folders named `<prefix><major version>` in `parent`, newest first. */
function versionFolders(parent: string, prefix: string): string[] {
  if (!existsSync(parent)) return [];
  const version = (name: string): number => Number(name.slice(prefix.length));
  return readdirSync(parent)
    .filter((name) => name.startsWith(prefix) && /^\d+$/.test(name.slice(prefix.length)))
    .sort((a, b) => version(b) - version(a))
    .map((name) => join(parent, name));
}

/**
 * Where this machine's server binaries are: Debian keeps one folder per major version
 * (/usr/lib/postgresql/15/bin), the PGDG packages for Red Hat too (/usr/pgsql-16/bin); the
 * newest wins. Elsewhere (Homebrew, a source build) `pg_config --bindir` says.
 */
export function postgresBinDir(): string {
  const candidates = [
    ...versionFolders('/usr/lib/postgresql', '').map((folder) => join(folder, 'bin')),
    ...versionFolders('/usr', 'pgsql-').map((folder) => join(folder, 'bin')),
  ];
  try {
    // pg_config belongs to the client library's package, which may be newer than the server: a candidate, checked like the rest.
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    // not installed
  }
  const found = candidates.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')));
  if (!found) throw new Error(`No PostgreSQL server binaries (initdb, pg_ctl) found in ${candidates.join(', ') || '/usr/lib/postgresql/*/bin or pg_config --bindir'}`);
  return found;
}

/**
 * initdb and the server refuse to run as root: as root, they run as the `postgres` user (the
 * server package creates it), which then owns the cluster's folder.
 */
function databaseOwner(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string): number => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** `cwd`: initdb gives up in a working folder it cannot read (a clone under /root, run as `postgres`). */
function runAsOwner(owner: { uid: number; gid: number } | undefined, cwd: string, command: string, args: string[]): void {
  const [file, argv] = owner ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
  try {
    execFileSync(file, argv, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const { stderr, stdout } = error as { stderr?: Buffer; stdout?: Buffer };
    throw new Error(`${command} ${args[0] ?? ''} failed: ${String(stderr ?? '') || String(stdout ?? '') || (error as Error).message}`);
  }
}

function chownTree(path: string, owner: { uid: number; gid: number }): void {
  execFileSync('chown', ['-R', `${owner.uid}:${owner.gid}`, path]);
}

/**
 * Starts a PostgreSQL cluster of its own in a temporary folder (under `stateDir` if given: it
 * must be reachable by the `postgres` user when run as root), with a CA and a server
 * certificate for 127.0.0.1 and localhost made for the run. TCP clients must use TLS (only
 * `hostssl` lines), then authenticate with SCRAM, so a URL must carry the password as well: a
 * plaintext client is refused before it can authenticate. The machine's own PostgreSQL is not
 * touched.
 */
export async function startTlsPostgres(options: { stateDir?: string; database?: string } = {}): Promise<TlsPostgres> {
  const started = Date.now();
  const bin = postgresBinDir();
  const owner = databaseOwner();
  const parent = options.stateDir ?? tmpdir();
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, 'postgres-tls-'));
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  const database = options.database ?? 'trade_webhooks';
  const password = randomBytes(18).toString('hex');
  let running = false;

  const pgCtl = (...args: string[]): void => runAsOwner(owner, dir, join(bin, 'pg_ctl'), ['-D', dataDir, ...args]);
  const stop = async (): Promise<void> => {
    try {
      if (running) {
        running = false;
        pgCtl('stop', '-m', 'fast', '-w', '-t', '30');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  try {
    const ca = createCertificateAuthority(dir, 'test-ca');
    // Its key is readable by its owner only, as the server requires.
    const server = issueServerCertificate(ca, dir, 'server', ['127.0.0.1', 'localhost']);
    const passwordFile = join(dir, 'password');
    writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
    if (owner) chownTree(dir, owner);

    runAsOwner(owner, dir, join(bin, 'initdb'), [
      '-D', dataDir, '-U', 'postgres', `--pwfile=${passwordFile}`,
      '--auth-local=trust', '--auth-host=scram-sha-256', '--encoding=UTF8', '--no-locale', '--no-sync',
    ]);
    rmSync(passwordFile);
    const port = await freePort();
    writeFileSync(
      join(dataDir, 'pg_hba.conf'),
      [
        // TCP only with TLS: a client that does not ask for it matches no line and is refused.
        'local   all all              trust',
        'hostssl all all 127.0.0.0/8  scram-sha-256',
        'hostssl all all ::1/128      scram-sha-256',
        '',
      ].join('\n'),
    );
    appendFileSync(
      join(dataDir, 'postgresql.conf'),
      [
        '',
        `port = ${port}`,
        // 127.0.0.2 is not in the certificate: the address that tells verify-ca from verify-full.
        "listen_addresses = '127.0.0.1,127.0.0.2'",
        `unix_socket_directories = '${dir}'`,
        'ssl = on',
        `ssl_cert_file = '${server.certFile}'`,
        `ssl_key_file = '${server.keyFile}'`,
        // A throwaway cluster: durability buys nothing here and costs start-up and test time.
        'fsync = off',
        'synchronous_commit = off',
        'full_page_writes = off',
        'shared_buffers = 32MB',
        'max_connections = 60',
        '',
      ].join('\n'),
    );
    pgCtl('start', '-w', '-t', '30', '-l', logFile);
    running = true;
    runAsOwner(owner, dir, join(bin, 'createdb'), ['-h', dir, '-p', String(port), '-U', 'postgres', database]);

    return {
      port,
      caFile: ca.certFile,
      database,
      startMs: Date.now() - started,
      url(sslmode, urlOptions = {}) {
        const url = new URL(`postgres://postgres@${urlOptions.host ?? '127.0.0.1'}:${port}/${database}`);
        url.password = password;
        if (sslmode !== undefined) url.searchParams.set('sslmode', sslmode);
        if (urlOptions.rootcert !== undefined) url.searchParams.set('sslrootcert', urlOptions.rootcert);
        return url.toString();
      },
      stop,
    };
  } catch (error) {
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : '';
    await stop().catch(() => undefined);
    throw new Error(`Could not start the TLS PostgreSQL cluster: ${(error as Error).message}${log ? `\nServer log:\n${log}` : ''}`, { cause: error });
  }
}
