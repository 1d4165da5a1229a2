import { COMPATIBILITY, SchemaType } from '@kafkajs/confluent-schema-registry';
import { freePort } from '../../scripts/harness/free-port';
import { checkCompatibility, createCompatibilityApi, valueSubjects } from '../../platform/schema-compatibility';
import { createRegistry, registerValueSchema, SUBJECT_COMPATIBILITY, valueSubject } from '../../platform/schema-registry';
import { readAvroSchema, WEBHOOK_EVENT_SCHEMA_FILE } from '../../schemas/avro-schemas';
import { serviceEndpoints } from '../setup/service-endpoints';
import { endless, fakeRegistry, json, trickle } from '../support/fake-registry';
import { uniqueName } from '../support/names';
import { securedRegistry } from '../support/secured-registry';

const registryUrl = serviceEndpoints().schemaRegistryUrl;
const registry = createRegistry(registryUrl);
const current = JSON.stringify(readAvroSchema(WEBHOOK_EVENT_SCHEMA_FILE));

/** The WebhookEvent schema with `path` a long: the current schema, whose `path` is a string, cannot read its records. */
function withPathRetyped(): string {
  const schema = readAvroSchema(WEBHOOK_EVENT_SCHEMA_FILE);
  return JSON.stringify({ ...schema, fields: schema.fields.map((field) => (field.name === 'path' ? { ...field, type: 'long' } : field)) });
}

async function subjectHolding(schema: string, compatibility: COMPATIBILITY = SUBJECT_COMPATIBILITY): Promise<string> {
  const subject = valueSubject(uniqueName('compatibility'));
  await registry.register({ type: SchemaType.AVRO, schema }, { subject, compatibility });
  return subject;
}

describe('asking the registry whether a schema may be registered', () => {
  const api = createCompatibilityApi(registryUrl);

  it('finds the current schema compatible with a subject holding it', async () => {
    const topic = uniqueName('compatibility');
    await registerValueSchema(registry, topic, WEBHOOK_EVENT_SCHEMA_FILE);

    await expect(checkCompatibility(api, valueSubject(topic), current)).resolves.toEqual({ subject: valueSubject(topic), verdict: 'compatible' });
  });

  it('finds the current schema not compatible with a subject whose latest version has a field of another type', async () => {
    const subject = await subjectHolding(withPathRetyped());

    await expect(checkCompatibility(api, subject, current)).resolves.toEqual({ subject, verdict: 'incompatible', reasons: expect.any(Array) });
  });

  it('says a subject without a version has none, where Apicurio alone would answer compatible', async () => {
    const subject = valueSubject(uniqueName('compatibility'));

    await expect(checkCompatibility(api, subject, withPathRetyped())).resolves.toEqual({ subject, verdict: 'unregistered' });
  });

  it('finds a subject set to another rule than ours not registrable, even for the schema it holds', async () => {
    const subject = await subjectHolding(current, COMPATIBILITY.FORWARD);

    await expect(checkCompatibility(api, subject, current)).resolves.toEqual({ subject, verdict: 'misconfigured', level: 'FORWARD' });
  });

  it("fails for a URL that leads to no registry's API instead of reading its 404 as no version", async () => {
    const wrongPath = createCompatibilityApi(new URL('/no-such-api', registryUrl).href);

    const subject = valueSubject(uniqueName('compatibility'));

    await expect(checkCompatibility(wrongPath, subject, current)).rejects.toThrow(`the schema registry answered 404 about ${subject}: SCHEMA_REGISTRY_URL does not lead to a registry's API`);
  });

  it('fails with the socket error for a registry nothing answers at', async () => {
    const closed = createCompatibilityApi(`http://127.0.0.1:${await freePort()}/apis/ccompat/v7`);

    await expect(checkCompatibility(closed, 'any-value', current)).rejects.toThrow(/^no answer from the schema registry about any-value: .*ECONNREFUSED/);
  });

  it('reaches a registry behind TLS and basic auth with its CA and credentials', async () => {
    const topic = uniqueName('compatibility');
    await registerValueSchema(registry, topic, WEBHOOK_EVENT_SCHEMA_FILE);
    const secured = await securedRegistry();
    const through = createCompatibilityApi(secured.url, { ca: secured.ca, auth: secured.credentials });

    await expect(checkCompatibility(through, valueSubject(topic), current)).resolves.toEqual({ subject: valueSubject(topic), verdict: 'compatible' });
    const api = new URL(secured.url).pathname;
    expect(secured.seen).toEqual([
      `GET ${api}/config/${valueSubject(topic)} forwarded`,
      `GET ${api}/subjects/${valueSubject(topic)}/versions/latest forwarded`,
      `POST ${api}/compatibility/subjects/${valueSubject(topic)}/versions/latest?verbose=true forwarded`,
    ]);
  });

  it("reports the registry's 401 when the credentials are wrong", async () => {
    const secured = await securedRegistry();
    const wrong = createCompatibilityApi(secured.url, { ca: secured.ca, auth: { username: secured.credentials.username, password: 'not-the-password' } });

    await expect(checkCompatibility(wrong, 'any-value', current)).rejects.toThrow('the schema registry answered 401 about any-value: Unauthorized');
  });

  it('lists at most 20 of the -value subjects the registry has, and counts them all', async () => {
    const topic = uniqueName('compatibility');
    await registerValueSchema(registry, topic, WEBHOOK_EVENT_SCHEMA_FILE);

    const { names, total } = await valueSubjects(api);

    expect(names.length).toBe(Math.min(total, 20));
    expect(names.every((name) => name.endsWith('-value'))).toBe(true);
    expect(total).toBeGreaterThanOrEqual(1);
  });
});

describe('a compatibility check against a server that answers unlike a registry', () => {
  const subject = 'webhook-events-value';

  it('fails on a redirect, even one whose body says compatible, instead of following or reading it', async () => {
    const url = await fakeRegistry({ compatible: json(307, { is_compatible: true }, { location: 'http://elsewhere.invalid/' }) });

    await expect(checkCompatibility(createCompatibilityApi(url), subject, current)).rejects.toThrow(
      `the schema registry answered 307 about ${subject}: a redirect, which is not followed`,
    );
  });

  it('fails when the configuration answer has no known compatibilityLevel', async () => {
    const url = await fakeRegistry({ config: json(200, {}) });

    await expect(checkCompatibility(createCompatibilityApi(url), subject, current)).rejects.toThrow(
      `the schema registry's answer about ${subject}'s configuration has no known compatibilityLevel`,
    );
  });

  it('fails when the latest version answer has no version, id or schema', async () => {
    const url = await fakeRegistry({ latest: json(200, {}) });

    await expect(checkCompatibility(createCompatibilityApi(url), subject, current)).rejects.toThrow(
      `the schema registry's answer about ${subject}'s latest version has no version, id, schema`,
    );
  });

  it('fails when the compatibility answer has no boolean is_compatible', async () => {
    const url = await fakeRegistry({ compatible: json(200, { is_compatible: 'true' }) });

    await expect(checkCompatibility(createCompatibilityApi(url), subject, current)).rejects.toThrow(`the schema registry's answer about ${subject} has no is_compatible`);
  });

  it('gives up on an answer that trickles in past the deadline, however steadily its bytes come', async () => {
    const url = await fakeRegistry({ latest: trickle(100) });
    const started = Date.now();

    await expect(checkCompatibility(createCompatibilityApi(url, { deadlineMs: 1_000 }), subject, current)).rejects.toThrow(
      `no complete answer from the schema registry about ${subject} within 1 s`,
    );
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('drops an answer larger than the cap without reading it whole, chunked or not', async () => {
    const chunked = await fakeRegistry({ compatible: endless(300 * 1024 * 1024) });
    const declared = await fakeRegistry({ compatible: json(200, { is_compatible: true, messages: ['x'.repeat(2 * 1024 * 1024)] }) });

    await expect(checkCompatibility(createCompatibilityApi(chunked), subject, current)).rejects.toThrow(
      `the schema registry's answer about ${subject} is larger than 1048576 bytes: dropped unread`,
    );
    await expect(checkCompatibility(createCompatibilityApi(declared), subject, current)).rejects.toThrow(
      `the schema registry's answer about ${subject} is larger than 1048576 bytes: dropped unread`,
    );
  });

  it('asks again after a 5xx, as the services do, within the deadline', async () => {
    let refusals = 2;
    const url = await fakeRegistry({ config: (outgoing) => (refusals-- > 0 ? json(503, {}) : json(200, { compatibilityLevel: 'BACKWARD' }))(outgoing) });

    await expect(checkCompatibility(createCompatibilityApi(url), subject, current)).resolves.toEqual({ subject, verdict: 'compatible' });
    expect(refusals).toBe(-1);
  });

  it('accepts the answers a registry gives: the fake itself is not what fails the other tests', async () => {
    const url = await fakeRegistry({});

    await expect(checkCompatibility(createCompatibilityApi(url), subject, current)).resolves.toEqual({ subject, verdict: 'compatible' });
  });
});
