import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { Knex } from 'knex';
import { ConfigError } from '../platform/environment';

/** The URL parameters that decide TLS: read here, and taken out of the URL pg is handed. */
const TLS_PARAMETERS = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'ssl', 'uselibpqcompat', 'sslnegotiation'] as const;

/** The sslmodes accepted, each of them a TLS connection or none: none falls back to the other. */
type Mode = 'disable' | 'require' | 'verify-ca' | 'verify-full';

const REFUSED_MODES: Readonly<Record<string, string>> = {
  allow: 'may connect without TLS (libpq tries plaintext first)',
  prefer: 'may connect without TLS (libpq falls back to plaintext when the server has no TLS)',
  'no-verify': 'encrypts without checking who answers, so anyone on the path can read and change the traffic; give the server\'s CA with sslrootcert instead',
};

function readPem(problems: string[], parameter: string, path: string, marker: RegExp): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    problems.push(`the database URL's ${parameter} file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    return undefined;
  }
  if (!marker.test(text)) {
    problems.push(`the database URL's ${parameter} file ${path} holds no PEM ${parameter === 'sslkey' ? 'private key' : 'certificate'}`);
    return undefined;
  }
  return text;
}

function modeOf(params: URLSearchParams, problems: string[]): Mode | undefined {
  const sslmode = params.get('sslmode');
  if (sslmode !== null) {
    if (sslmode in REFUSED_MODES) {
      problems.push(`the database URL's sslmode=${sslmode} is not accepted: it ${REFUSED_MODES[sslmode]}. Use sslmode=verify-full (or require, verify-ca), or sslmode=disable`);
      return undefined;
    }
    if (sslmode === 'disable' || sslmode === 'require' || sslmode === 'verify-ca' || sslmode === 'verify-full') return sslmode;
    problems.push(`the database URL's sslmode=${sslmode} is unknown: use disable, require, verify-ca or verify-full`);
    return undefined;
  }
  // node-postgres's own switch: ssl=true asks for TLS with Node's checks, that is verify-full.
  const ssl = params.get('ssl');
  if (ssl === 'true' || ssl === '1') return 'verify-full';
  if (ssl === 'false' || ssl === '0') return 'disable';
  if (ssl !== null) {
    problems.push(`the database URL's ssl=${ssl} is not accepted: use sslmode=verify-full (or require, verify-ca), or sslmode=disable`);
    return undefined;
  }
  // A CA or a client certificate only makes sense over TLS: asking for one is asking for TLS.
  return params.has('sslrootcert') || params.has('sslcert') ? 'verify-full' : undefined;
}

/**
 * How pg connects to the database at `url`, with TLS as the URL's `sslmode` asks, decided here
 * rather than by pg's own reading: pg 8 reads `require` and `verify-ca` as `verify-full` (with
 * a deprecation warning), pg 9 will read them as libpq does (`require` then checks nothing), and
 * knex parses a URL string with an older copy of pg's parser than pg's own. Here:
 *
 * - `verify-full`: TLS; the server's certificate must chain to `sslrootcert` (Node's trusted
 *   CAs without it) and name the host connected to.
 * - `require`: exactly as `verify-full`. It encrypts AND verifies the chain and the host name,
 *   stricter than libpq's `require` (which checks nothing without a root certificate): a
 *   connection whose server is not checked can be read by whoever answers in its place. A
 *   server with a private CA needs `sslrootcert`.
 * - `verify-ca`: TLS; the chain is checked against `sslrootcert`, which it needs (a public CA
 *   without the host name check would accept any server that CA ever certified), the host
 *   name is not.
 * - `disable`: no TLS. `allow`, `prefer` (which may fall back to plaintext) and `no-verify`
 *   (which checks nothing) are refused, as is `uselibpqcompat`, whose meanings these replace.
 * - `sslcert` + `sslkey`: a client certificate, both or neither.
 *
 * No sslmode, ssl or certificate parameter: the URL goes to pg as it is (then PGSSLMODE decides,
 * as pg does). A file that cannot be read or holds no PEM is a ConfigError listing every problem,
 * raised here, before any connection is tried; the URL itself is never repeated (it may hold a
 * password).
 */
export function databaseConnection(url: string): string | Knex.PgConnectionConfig {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(['the database URL is not a URL']);
  }
  const params = parsed.searchParams;
  if (!TLS_PARAMETERS.some((name) => params.has(name))) return url;

  const problems: string[] = [];
  if (params.has('uselibpqcompat')) {
    problems.push("the database URL's uselibpqcompat is not accepted: sslmode here means require = verify-full (chain and host name checked), verify-ca, verify-full or disable");
  }
  const mode = modeOf(params, problems);
  const rootcert = params.get('sslrootcert');
  const cert = params.get('sslcert');
  const key = params.get('sslkey');
  if (mode === 'verify-ca' && rootcert === null) {
    problems.push("the database URL's sslmode=verify-ca needs sslrootcert (the CA to check the server against): without it, any server a public CA certified is accepted. Give sslrootcert, or use verify-full");
  }
  if ((cert === null) !== (key === null)) problems.push("the database URL's sslcert and sslkey go together: give both (a client certificate) or neither");

  let ssl: false | ConnectionOptions | undefined;
  if (mode === 'disable') {
    ssl = false;
  } else if (mode !== undefined) {
    ssl = {};
    if (rootcert !== null) ssl.ca = readPem(problems, 'sslrootcert', rootcert, /-----BEGIN CERTIFICATE-----/);
    if (cert !== null && key !== null) {
      ssl.cert = readPem(problems, 'sslcert', cert, /-----BEGIN CERTIFICATE-----/);
      ssl.key = readPem(problems, 'sslkey', key, /-----BEGIN [A-Z ]*PRIVATE KEY-----/);
    }
    // Node checks the chain (rejectUnauthorized defaults to true) and then calls this for the name.
    if (mode === 'verify-ca') ssl.checkServerIdentity = () => undefined;
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const negotiation = params.get('sslnegotiation');
  for (const name of TLS_PARAMETERS) params.delete(name);
  // pg parses connectionString itself and lets what it finds there win, so the TLS parameters
  // must be gone from it for `ssl` to count.
  return { connectionString: parsed.toString(), ...(ssl === undefined ? {} : { ssl }), ...(negotiation === null ? {} : { sslnegotiation: negotiation }) } as Knex.PgConnectionConfig;
}
