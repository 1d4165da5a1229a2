/**
 * `npm run images`: builds, where no image registry is reachable, images that keep the official
 * images' environment contracts, from Debian's packages, Maven Central and the npm registry:
 * the Debian base first, then Kafka, PostgreSQL, the schema registry and Node.js, each tagged as
 * soon as it is built. An image whose inputs are unchanged is not built again. Then the app
 * image, from the project's Dockerfile (Docker's cache keeps an unchanged one). Writes
 * `.services/images.env`, which names them for the Docker path (scripts/harness/images.ts).
 */
import { cpSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IMAGE_VARIABLES, type ServiceImages } from '../images';
import { serviceSettings } from '../native/settings';
import { BASE_TAG, baseHash, importBase } from './base-image';
import { buildImage, ensureImage, imageSize, type Outcome } from './docker';
import { inputHash } from './input-hash';
import { appImage, buildAppImage } from './app-image';
import { kafkaImage, nodeImage, postgresImage, registryImage, type LocalImage } from './local-images';

function report(tag: string, outcome: Outcome, started: number): void {
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const megabytes = Math.round(imageSize(tag) / 1e6);
  process.stderr.write(`${tag}: ${outcome} in ${seconds} s, ${megabytes} MB\n`);
}

/** The text of every file of the image's build context that is not copied in by `stage`. */
function contextFiles(image: LocalImage): Record<string, string> {
  const folder = join(__dirname, image.folder);
  const files: Record<string, string> = {};
  for (const name of readdirSync(folder)) files[name] = readFileSync(join(folder, name), 'utf8');
  for (const [name, path] of Object.entries(image.projectFiles)) files[name] = readFileSync(path, 'utf8');
  return files;
}

function ensureLocalImage(image: LocalImage, parentHash: string): void {
  const started = Date.now();
  const buildArgs = { ...image.buildArgs, BASE: BASE_TAG };
  const hash = inputHash({ files: contextFiles(image), buildArgs, parts: [`base ${parentHash}`, ...image.parts] });
  const outcome = ensureImage(image.tag, hash, () => {
    const context = mkdtempSync(join(tmpdir(), `trade-webhooks-image-${image.key}-`));
    try {
      cpSync(join(__dirname, image.folder), context, { recursive: true });
      for (const [name, path] of Object.entries(image.projectFiles)) copyFileSync(path, join(context, name));
      image.stage(context);
      buildImage({ context, tag: image.tag, hash, buildArgs });
    } finally {
      rmSync(context, { recursive: true, force: true });
    }
  });
  report(image.tag, outcome, started);
}

function main(): void {
  const settings = serviceSettings();
  const started = Date.now();
  const parentHash = baseHash();
  report(BASE_TAG, ensureImage(BASE_TAG, parentHash, () => importBase(settings.cacheDir, parentHash)), started);

  const built: Partial<Record<keyof ServiceImages, string>> = {};
  // In this order, each made only when its turn comes: a fetch for a later image never holds up an earlier one.
  const images = [() => kafkaImage(settings.cacheDir), () => postgresImage(), () => registryImage(settings.cacheDir), () => nodeImage(settings.cacheDir)];
  for (const make of images) {
    const image = make();
    ensureLocalImage(image, parentHash);
    built[image.key] = image.tag;
  }

  // The project's own image last, on the Node image just built: every image the Docker path runs.
  const appStarted = Date.now();
  buildAppImage(built.node!);
  report(appImage(), 'built', appStarted);

  const lines = (Object.keys(IMAGE_VARIABLES) as Array<keyof ServiceImages>).map((key) => `export ${IMAGE_VARIABLES[key]}=${built[key]}\n`).join('');
  mkdirSync(settings.stateDir, { recursive: true });
  writeFileSync(join(settings.stateDir, 'images.env'), lines);
  process.stdout.write(lines);
}

main();
