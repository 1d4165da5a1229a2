import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { OPERATIONS_PATHS, WEBHOOK_ROUTES } from '../../receiver/routes';
import { RESPONSES } from '../../receiver/responses';
import { sendWebhook } from '../../sender';
import { WEBHOOKS } from '../../schemas/webhook-catalog';
import { createTestTopic, testAdmin } from '../support/kafka';
import { startTestReceiver, TEST_RELWORX_CALLBACK_URL, TEST_SECRETS, type TestReceiver } from '../support/receiver';
import { SECRET_VARIABLES } from '../../platform/secret-variables';

interface OpenApi {
  paths: Record<string, { post?: Operation; get?: Operation; $ref?: string }>;
  components: {
    examples: Record<string, { value: unknown }>;
    responses: Record<string, unknown> & { Accepted: { content: { 'application/json': { schema: { required: string[]; properties: Record<string, unknown> }; example: Record<string, unknown> } } } };
    parameters: Record<string, { name: string }>;
  };
}
interface Operation {
  parameters: Array<{ $ref: string }>;
  responses: Record<string, unknown>;
  requestBody?: { content: { 'application/json': { examples: Record<string, { $ref: string }> } } };
}

const spec = parse(readFileSync(join(__dirname, '..', '..', 'receiver', 'openapi.yaml'), 'utf8')) as OpenApi;
const accepted = spec.components.responses.Accepted.content['application/json'];

/** A path item, following a `$ref` to another path (the /api/v1/ aliases). */
function pathItem(path: string) {
  const item = spec.paths[path]!;
  return item.$ref ? spec.paths[item.$ref.replace('#/paths/', '').replace(/~1/g, '/')]! : item;
}

describe('receiver/openapi.yaml', () => {
  let receiver: TestReceiver;
  beforeAll(async () => {
    receiver = await startTestReceiver({ topic: await createTestTopic(await testAdmin()) });
  });

  it('documents exactly the routes the receiver serves', () => {
    expect(Object.keys(spec.paths).sort()).toEqual([...WEBHOOK_ROUTES.keys(), ...OPERATIONS_PATHS].sort());
  });

  it('documents every response of the response table on every webhook route', () => {
    const statuses = new Set(Object.values(RESPONSES).map((response) => String(response.status)));
    statuses.delete('404');
    for (const path of WEBHOOK_ROUTES.keys()) {
      expect(Object.keys(pathItem(path).post!.responses).sort()).toEqual(['202', ...statuses].sort());
    }
  });

  it("documents the Standard Webhooks headers and Svix's names for them on every webhook route", () => {
    const standard = ['webhook-id', 'webhook-timestamp', 'webhook-signature', 'svix-id', 'svix-timestamp', 'svix-signature'];
    for (const path of WEBHOOK_ROUTES.keys()) {
      const names = pathItem(path).post!.parameters.map((parameter) => spec.components.parameters[parameter.$ref.split('/').pop()!]!.name);
      expect(names).toEqual(expect.arrayContaining(standard));
    }
  });

  it('answers 404 for a path it does not document', async () => {
    expect((await fetch(`${receiver.url}/api/v2/webhooks/buy-complete`, { method: 'POST' })).status).toBe(404);
  });

  it.each([...WEBHOOK_ROUTES.keys()])('accepts the documented example of %s, signed', async (path) => {
    const definition = WEBHOOK_ROUTES.get(path)!;
    const examples = pathItem(path).post!.requestBody!.content['application/json'].examples;
    expect(Object.keys(examples).length).toBeGreaterThan(0);
    for (const reference of Object.values(examples)) {
      const example = spec.components.examples[reference.$ref.split('/').pop()!]!.value;
      const secret = TEST_SECRETS[SECRET_VARIABLES[definition.type] as keyof typeof TEST_SECRETS];
      const result = await sendWebhook(receiver.url, definition.name, example, {
        secret,
        gateway: path.startsWith('/api/v1/'),
        callbackUrl: TEST_RELWORX_CALLBACK_URL,
        maxAttempts: 1,
      });
      expect(result).toEqual(expect.objectContaining({ status: 202 }));
      expect(Object.keys(JSON.parse(result.body) as object).sort()).toEqual([...accepted.schema.required].sort());
    }
  });

  it('documents the 202 receipt with every field it requires, and an example that has them all', () => {
    expect(Object.keys(accepted.schema.properties).sort()).toEqual([...accepted.schema.required].sort());
    expect(Object.keys(accepted.example).sort()).toEqual([...accepted.schema.required].sort());
    expect(typeof accepted.example.offset).toBe('string');
  });

  it('has one example per webhook type', () => {
    expect(Object.keys(spec.components.examples).length).toBe(WEBHOOKS.length);
  });
});
