import { readRegistryConnection, type RegistryConnection } from '../../platform/registry-connection';
import { fileHolding, readingWith } from '../support/environment';
import { testCertificates } from '../support/tls-certificates';

/** A value that looks like a password; no problem may print it. */
const SECRET = 'S3cr3t-Registry+Password/0123456789=';

const certificates = testCertificates();

const reading = (env: NodeJS.ProcessEnv) => readingWith(env, readRegistryConnection);

const HTTPS_URL = 'https://registry.example:8443/apis/ccompat/v7';

describe('schema registry connection settings', () => {
  it.each<[string, NodeJS.ProcessEnv, RegistryConnection]>([
    ['nothing set: the local registry, no credentials', {}, { url: 'http://127.0.0.1:8081/apis/ccompat/v7' }],
    [
      'credentials',
      { SCHEMA_REGISTRY_URL: HTTPS_URL, SCHEMA_REGISTRY_USERNAME: 'svc-webhooks', SCHEMA_REGISTRY_PASSWORD: SECRET },
      { url: HTTPS_URL, auth: { username: 'svc-webhooks', password: SECRET } },
    ],
    [
      'the password from SCHEMA_REGISTRY_PASSWORD_FILE, and a private CA',
      { SCHEMA_REGISTRY_URL: HTTPS_URL, SCHEMA_REGISTRY_USERNAME: 'svc-webhooks', SCHEMA_REGISTRY_PASSWORD_FILE: fileHolding(`${SECRET}\n`), SCHEMA_REGISTRY_CA_FILE: certificates.caFile },
      { url: HTTPS_URL, auth: { username: 'svc-webhooks', password: SECRET }, ca: certificates.ca },
    ],
  ])('reads %s', (_name, env, expected) => {
    const { connection, problems } = reading(env);
    expect(problems).toEqual([]);
    expect(connection).toEqual(expected);
    expect(Object.isFrozen(connection)).toBe(true);
  });

  it.each<[string, NodeJS.ProcessEnv, string[]]>([
    ['a username without a password', { SCHEMA_REGISTRY_USERNAME: 'svc-webhooks' }, ['SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD (or SCHEMA_REGISTRY_PASSWORD_FILE) go together: set both or neither']],
    ['a password without a username', { SCHEMA_REGISTRY_PASSWORD: SECRET }, ['SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD (or SCHEMA_REGISTRY_PASSWORD_FILE) go together: set both or neither']],
    [
      'the password and its file both set',
      { SCHEMA_REGISTRY_USERNAME: 'svc-webhooks', SCHEMA_REGISTRY_PASSWORD: SECRET, SCHEMA_REGISTRY_PASSWORD_FILE: fileHolding(SECRET) },
      ['SCHEMA_REGISTRY_PASSWORD and SCHEMA_REGISTRY_PASSWORD_FILE are both set: set one of them'],
    ],
    [
      'a password in the URL',
      { SCHEMA_REGISTRY_URL: `https://svc-webhooks:${encodeURIComponent(SECRET)}@registry.example:8443/apis/ccompat/v7` },
      ['SCHEMA_REGISTRY_URL must not hold credentials (user:password@): set SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD (or SCHEMA_REGISTRY_PASSWORD_FILE) instead'],
    ],
    [
      'a user name alone in the URL',
      { SCHEMA_REGISTRY_URL: 'http://svc-webhooks@registry.example:8081/apis/ccompat/v7' },
      ['SCHEMA_REGISTRY_URL must not hold credentials (user:password@): set SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD (or SCHEMA_REGISTRY_PASSWORD_FILE) instead'],
    ],
    ['a CA for an http:// registry', { SCHEMA_REGISTRY_CA_FILE: certificates.caFile }, ['SCHEMA_REGISTRY_CA_FILE is set, but SCHEMA_REGISTRY_URL is not an https:// URL']],
    [
      'every problem at once',
      { SCHEMA_REGISTRY_URL: 'registry:8081', SCHEMA_REGISTRY_PASSWORD: SECRET, SCHEMA_REGISTRY_CA_FILE: certificates.client.keyFile },
      [
        'SCHEMA_REGISTRY_URL must be an absolute http:// or https:// URL',
        'SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD (or SCHEMA_REGISTRY_PASSWORD_FILE) go together: set both or neither',
        `SCHEMA_REGISTRY_CA_FILE (${certificates.client.keyFile}) holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
        'SCHEMA_REGISTRY_CA_FILE is set, but SCHEMA_REGISTRY_URL is not an https:// URL',
      ],
    ],
  ])('refuses %s, and never prints the password', (_name, env, expected) => {
    const { problems } = reading(env);
    expect(problems).toEqual(expected);
    expect(problems.join('\n')).not.toContain(SECRET);
    expect(problems.join('\n')).not.toContain(encodeURIComponent(SECRET));
  });
});
