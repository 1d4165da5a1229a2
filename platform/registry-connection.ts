import { SERVICE_DEFAULTS } from './defaults';
import { hasProtocol, type EnvironmentReader } from './environment';
import { caBundleProblem } from './tls-files';

/** How to reach the schema registry: `createRegistry(url, { auth, ca })`. */
export interface RegistryConnection {
  readonly url: string;
  /** HTTP basic authentication. */
  readonly auth?: { readonly username: string; readonly password: string };
  /** The PEM bundle to trust instead of Node's CAs, for an https registry with a private CA. */
  readonly ca?: Buffer;
}

function hasUserInfo(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.username !== '' || parsed.password !== '';
  } catch {
    return false;
  }
}

/** SCHEMA_REGISTRY_URL and the registry's credentials and CA, read once; problems are recorded on `read`. */
export function readRegistryConnection(read: EnvironmentReader): RegistryConnection {
  const { problems } = read;
  const url = read.httpUrl('SCHEMA_REGISTRY_URL', SERVICE_DEFAULTS.schemaRegistryUrl);
  // The registry client puts the URL into its errors, and errors are logged: a password in it
  // would be printed with every failed request.
  if (hasUserInfo(url)) {
    problems.push('SCHEMA_REGISTRY_URL must not hold credentials (user:password@): set SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD (or SCHEMA_REGISTRY_PASSWORD_FILE) instead');
  }
  const username = read.text('SCHEMA_REGISTRY_USERNAME');
  const before = problems.length;
  const password = read.secret('SCHEMA_REGISTRY_PASSWORD') || undefined;
  if (problems.length === before && (username === undefined) !== (password === undefined)) {
    problems.push('SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD (or SCHEMA_REGISTRY_PASSWORD_FILE) go together: set both or neither');
  }
  const ca = read.file('SCHEMA_REGISTRY_CA_FILE');
  const caProblem = ca && caBundleProblem('SCHEMA_REGISTRY_CA_FILE', ca);
  if (caProblem) problems.push(caProblem);
  if (ca && !hasProtocol(url, ['https:'])) problems.push('SCHEMA_REGISTRY_CA_FILE is set, but SCHEMA_REGISTRY_URL is not an https:// URL');
  return Object.freeze({
    url,
    ...(username !== undefined && password !== undefined && { auth: Object.freeze({ username, password }) }),
    ...(ca && { ca: ca.content }),
  });
}
