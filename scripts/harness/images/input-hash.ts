import { createHash } from 'node:crypto';

/** The label every built image carries: the hash of what it was built from. */
export const INPUTS_LABEL = 'org.trade-webhooks.inputs';

/** Everything an image is made of; a change to any of it is a new image. */
export interface ImageInputs {
  /** The build context's own files (the Dockerfile, the scripts), by name. */
  readonly files: Readonly<Record<string, string>>;
  readonly buildArgs: Readonly<Record<string, string>>;
  /** What else goes in: versions, the names and sizes of the jars copied in, the parent's hash. */
  readonly parts: readonly string[];
}

function byName(record: Readonly<Record<string, string>>): Array<[string, string]> {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * A hash of `inputs` that does not depend on the order the files and arguments were listed in.
 * Every field is written with its length first, so no two different inputs run together into
 * the same text (`ab`,`c` is not `a`,`bc`).
 */
export function inputHash(inputs: ImageInputs): string {
  const hash = createHash('sha256');
  const write = (text: string) => hash.update(`${Buffer.byteLength(text)}:${text};`);
  for (const [section, entries] of [['files', byName(inputs.files)], ['args', byName(inputs.buildArgs)]] as const) {
    write(section);
    for (const [name, value] of entries) {
      write(name);
      write(value);
    }
  }
  write('parts');
  for (const part of inputs.parts) write(part);
  return hash.digest('hex').slice(0, 32);
}
