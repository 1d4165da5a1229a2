import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

interface ComposeService {
  ports?: string[];
  init?: boolean;
  stop_grace_period?: string;
  command?: string[];
}

/** docker-compose.yml as Compose reads it with no variables set: `${NAME:-default}` is its default. */
function composeServices(): Record<string, ComposeService> {
  const text = readFileSync(join(__dirname, '..', '..', 'docker-compose.yml'), 'utf8').replace(/\$\{\w+:-([^}]*)\}/g, '$1');
  return (parse(text) as { services: Record<string, ComposeService> }).services;
}

const APP_SERVICES = ['migrate', 'processor', 'receiver'];

describe('docker-compose.yml', () => {
  const services = composeServices();

  it('publishes only the receiver beyond loopback: Kafka, the registry, PostgreSQL and the metrics answer on 127.0.0.1', () => {
    const published = Object.entries(services).flatMap(([name, service]) => (service.ports ?? []).map((port) => ({ name, port })));
    expect(published.map(({ name }) => name).sort()).toEqual(['kafka', 'postgres', 'processor', 'receiver', 'registry']);
    const open = published.filter(({ port }) => !port.startsWith('127.0.0.1:'));
    expect(open).toEqual([{ name: 'receiver', port: '8000:8000' }]);
  });

  it('runs the app services under an init that forwards signals, and gives the long-running ones longer than their own drain to stop', () => {
    for (const name of APP_SERVICES) expect([name, services[name]!.init]).toEqual([name, true]);
    for (const name of ['processor', 'receiver']) expect([name, services[name]!.stop_grace_period]).toEqual([name, '30s']);
  });
});
