import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { DatabaseError } from 'pg';
import { ConfigError } from '../../platform/environment';
import { createLogger } from '../../platform/logger';
import { createDatabase } from '../../processor/database';
import { databaseConnection } from '../../processor/database-connection';
import { migrateDatabase } from '../../processor/migrations';
import { createCertificateAuthority } from '../../scripts/harness/native/certificates';
import { startTlsPostgres, type TlsPostgres } from '../../scripts/harness/native/postgres-tls';
import { freePort } from '../../scripts/harness/free-port';
import { startProjectProcess } from '../../scripts/harness/project-process';
import { onCleanup } from '../support/cleanup';
import { envelopeFor, eventWriter } from '../support/events';
import { logLines } from '../support/log-lines';
import { uniqueName } from '../support/names';
import { createTestTopics, insertTrade, systemEnv, testKafka } from '../support/processor';
import { serviceProcess } from '../support/service-process';
import { waitFor, withinDeadline } from '../support/wait-for';

let server: TlsPostgres;
/** A CA that did not issue the server's certificate. */
let otherCaFile: string;
let scratch: string;

beforeAll(async () => {
  server = await startTlsPostgres();
  onCleanup(() => server.stop());
  scratch = mkdtempSync(join(tmpdir(), 'database-connection-'));
  onCleanup(() => rmSync(scratch, { recursive: true, force: true }));
  otherCaFile = createCertificateAuthority(scratch, 'other-ca').certFile;
});

function database(url: string, schema?: string): Knex {
  const db = createDatabase({ url, schema, poolMax: 2, logger: createLogger({ level: 'silent', name: 'processor' }) });
  onCleanup(() => db.destroy());
  return db;
}

async function sessionIsEncrypted(db: Knex): Promise<boolean> {
  const { rows } = await db.raw('select ssl from pg_stat_ssl where pid = pg_backend_pid()');
  return rows[0].ssl;
}

function problemsOf(url: string): readonly string[] {
  try {
    databaseConnection(url);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('databaseConnection', () => {
  it('hands a URL without TLS parameters to pg as it is', () => {
    const url = 'postgres://app:secret@db.internal:5433/trades?application_name=processor';
    expect(databaseConnection(url)).toBe(url);
  });

  it('takes the TLS parameters out of the URL pg parses and keeps the rest, password included', () => {
    const connection = databaseConnection(`postgres://app:s%40cret@127.0.0.1:5433/trades?application_name=processor&sslmode=verify-full&sslrootcert=${server.caFile}`);
    expect(connection).toEqual({ connectionString: 'postgres://app:s%40cret@127.0.0.1:5433/trades?application_name=processor', ssl: { ca: expect.stringContaining('-----BEGIN CERTIFICATE-----') } });
  });

  it.each(['prefer', 'allow'])('refuses sslmode=%s, which may connect without TLS', (mode) => {
    expect(problemsOf(`postgres://127.0.0.1/db?sslmode=${mode}`)).toEqual([expect.stringContaining(`sslmode=${mode} is not accepted: it may connect without TLS`)]);
  });

  it.each(['sslmode=no-verify', 'ssl=no-verify'])('refuses %s, which checks nothing', (parameter) => {
    expect(problemsOf(`postgres://127.0.0.1/db?${parameter}`)).toEqual([expect.stringContaining('is not accepted')]);
  });

  it('refuses verify-ca without the CA to verify against', () => {
    expect(problemsOf('postgres://127.0.0.1/db?sslmode=verify-ca')).toEqual([expect.stringContaining('sslmode=verify-ca needs sslrootcert')]);
  });

  it('refuses uselibpqcompat, whose meaning of require it does not follow', () => {
    expect(problemsOf(`postgres://127.0.0.1/db?uselibpqcompat=true&sslmode=require&sslrootcert=${server.caFile}`)).toEqual([expect.stringContaining('uselibpqcompat is not accepted')]);
  });

  it('names a missing, an unreadable and a non-PEM CA file, all at once, without repeating the URL', () => {
    const notPem = join(scratch, 'not-pem.txt');
    writeFileSync(notPem, 'hello');
    const missing = join(scratch, 'missing.pem');
    const problems = problemsOf(`postgres://app:topsecret@127.0.0.1/db?sslmode=verify-full&sslrootcert=${missing}&sslcert=${scratch}&sslkey=${notPem}`);
    expect(problems).toEqual([
      `the database URL's sslrootcert file ${missing} cannot be read (ENOENT)`,
      `the database URL's sslcert file ${scratch} cannot be read (EISDIR)`,
      `the database URL's sslkey file ${notPem} holds no PEM private key`,
    ]);
    expect(problems.join('\n')).not.toContain('topsecret');
  });

  it('wants sslcert and sslkey together', () => {
    expect(problemsOf(`postgres://127.0.0.1/db?sslmode=verify-full&sslcert=${server.caFile}`)).toEqual([expect.stringContaining('sslcert and sslkey go together')]);
  });

  it('makes createDatabase fail before connecting when the CA file is missing', () => {
    expect(() => database(server.url('verify-full', { rootcert: join(scratch, 'gone.pem') }))).toThrow(ConfigError);
  });
});

describe('createDatabase over TLS', () => {
  it('connects with sslmode=verify-full and the CA that issued the server certificate, encrypted', async () => {
    expect(await sessionIsEncrypted(database(server.url('verify-full', { rootcert: server.caFile })))).toBe(true);
  });

  it('verifies with sslmode=require as well: the right CA connects, a certificate it cannot verify is refused', async () => {
    expect(await sessionIsEncrypted(database(server.url('require', { rootcert: server.caFile })))).toBe(true);
    // Without sslrootcert, Node's trusted CAs: none of them issued this server's certificate.
    await expect(database(server.url('require')).raw('select 1')).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  });

  it('refuses a server whose certificate another CA issued, with a TLS error and no SQLSTATE', async () => {
    const failure = await database(server.url('verify-full', { rootcert: otherCaFile })).raw('select 1').then(() => undefined, (error: unknown) => error);
    // Node's TLS error (a plain Error with OpenSSL's verification code), not the server's refusal.
    expect(failure).not.toBeInstanceOf(DatabaseError);
    expect(failure).toMatchObject({ name: 'Error', code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', message: 'unable to verify the first certificate' });
  });

  it('checks the host name with verify-full, and not with verify-ca', async () => {
    // 127.0.0.2 reaches the same server, but its certificate names 127.0.0.1 and localhost only.
    await expect(database(server.url('verify-full', { rootcert: server.caFile, host: '127.0.0.2' })).raw('select 1')).rejects.toMatchObject({
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
    expect(await sessionIsEncrypted(database(server.url('verify-ca', { rootcert: server.caFile, host: '127.0.0.2' })))).toBe(true);
    expect(await sessionIsEncrypted(database(server.url('verify-full', { rootcert: server.caFile, host: 'localhost' })))).toBe(true);
  });

  it('is refused in plaintext by a server that takes TCP clients over TLS only', async () => {
    const refusal = database(server.url('disable')).raw('select 1');
    await expect(refusal).rejects.toBeInstanceOf(DatabaseError);
    await expect(refusal).rejects.toMatchObject({ code: '28000', message: expect.stringContaining('no encryption') });
  });
});

describe('the processor over a TLS DATABASE_URL', () => {
  it('migrates, becomes ready and applies an event end to end', async () => {
    const url = server.url('verify-full', { rootcert: server.caFile });
    const schema = uniqueName('tls');
    const db = database(url, schema);
    await migrateDatabase(db, { schema, walletTables: true });
    const topics = await createTestTopics();
    const port = await freePort();
    const processor = serviceProcess(
      'processor',
      { ...systemEnv({ schema, topics }), DATABASE_URL: url, PROCESSOR_PORT: String(port), PROCESSOR_HOST: '127.0.0.1', TOPIC_PARTITIONS: '3' },
      `http://127.0.0.1:${port}/readyz`,
    );
    await processor.start();

    const trade = await insertTrade(db, { trade_type: 'buy', status: 'processing' });
    const write = await eventWriter(testKafka(), topics.events);
    await write.write([{ key: String(trade.id), envelope: envelopeFor('buy_completion', JSON.stringify({ trade_id: trade.id, status: 'completed', transaction_hash: '0xtls' })) }]);

    const applied = await waitFor('the trade completed', async () => (await db('trades').where({ id: trade.id, status: 'completed' }).first()) ?? undefined);
    expect(applied.metadata).toEqual(expect.objectContaining({ transaction_hash: '0xtls' }));
    expect(await db('webhook_events').where({ outcome: 'applied' }).count()).toEqual([{ count: '1' }]);
  });

  it('gives up starting with one error naming the TLS failure, not a retry loop, when the CA is wrong', async () => {
    const topics = await createTestTopics();
    const env = { PATH: process.env.PATH, ...systemEnv({ schema: uniqueName('tls'), topics }), DATABASE_URL: server.url('verify-full', { rootcert: otherCaFile }), PROCESSOR_PORT: '0', PROCESSOR_HOST: '127.0.0.1' };
    const processor = startProjectProcess('processor/main.ts', env);
    onCleanup(() => processor.kill());
    let output = '';
    processor.child.stdout!.on('data', (chunk) => (output += chunk));

    expect(await withinDeadline('the processor giving up', processor.exited)).toBe(1);
    const lines = logLines(output);
    expect(lines.filter((line) => line.msg === 'Start-up step failed; retrying')).toEqual([]);
    expect(lines.filter((line) => line.level === 50)).toEqual([
      expect.objectContaining({ msg: 'Starting the processor failed, and retrying cannot fix it', err: expect.objectContaining({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }) }),
    ]);
  });

  it('exits at once, naming the file, when the CA file is missing', async () => {
    const missing = join(scratch, 'nowhere', 'ca.pem');
    const topics = await createTestTopics();
    const env = { PATH: process.env.PATH, ...systemEnv({ schema: uniqueName('tls'), topics }), DATABASE_URL: server.url('verify-full', { rootcert: missing }), PROCESSOR_PORT: '0' };
    const processor = startProjectProcess('processor/main.ts', env);
    onCleanup(() => processor.kill());
    let output = '';
    processor.child.stderr!.on('data', (chunk) => (output += chunk));

    expect(await withinDeadline('the processor exiting', processor.exited)).not.toBe(0);
    expect(output).toContain(`the database URL's sslrootcert file ${missing} cannot be read (ENOENT)`);
  });
});
