import { inputHash, type ImageInputs } from '../../../scripts/harness/images/input-hash';

const INPUTS: ImageInputs = {
  files: { Dockerfile: 'FROM base\nCOPY libs /opt/libs\n', 'entrypoint.sh': '#!/bin/bash\nexec java\n' },
  buildArgs: { BASE: 'trade-webhooks-local/debian:bookworm', NODE_VERSION: '24.21.0' },
  parts: ['base 1234', 'kafka-clients-4.1.2.jar 100'],
};

describe("an image's input hash", () => {
  it('is the same for the same inputs listed in another order', () => {
    const reordered: ImageInputs = {
      files: { 'entrypoint.sh': INPUTS.files['entrypoint.sh']!, Dockerfile: INPUTS.files.Dockerfile! },
      buildArgs: { NODE_VERSION: '24.21.0', BASE: 'trade-webhooks-local/debian:bookworm' },
      parts: INPUTS.parts,
    };
    expect(inputHash(reordered)).toBe(inputHash(INPUTS));
  });

  it.each<[string, ImageInputs]>([
    ['a byte of the Dockerfile', { ...INPUTS, files: { ...INPUTS.files, Dockerfile: 'FROM base\nCOPY libs /opt/lib\n' } }],
    ["a file's name", { ...INPUTS, files: { Dockerfile: INPUTS.files.Dockerfile!, 'start.sh': INPUTS.files['entrypoint.sh']! } }],
    ['a build argument', { ...INPUTS, buildArgs: { ...INPUTS.buildArgs, NODE_VERSION: '24.21.1' } }],
    ["a jar's size", { ...INPUTS, parts: ['base 1234', 'kafka-clients-4.1.2.jar 101'] }],
    ["the parent image's hash", { ...INPUTS, parts: ['base 1235', 'kafka-clients-4.1.2.jar 100'] }],
    ['where one part ends and the next begins', { ...INPUTS, parts: ['base 1234kafka-clients-4.1.2.jar', ' 100'] }],
    ['a part moved to a build argument', { ...INPUTS, buildArgs: { ...INPUTS.buildArgs, base: '1234' }, parts: ['kafka-clients-4.1.2.jar 100'] }],
  ])('changes with %s', (_change, changed) => {
    expect(inputHash(changed)).not.toBe(inputHash(INPUTS));
  });

  it('fits a Docker label value: 32 hexadecimal digits', () => {
    expect(inputHash(INPUTS)).toMatch(/^[0-9a-f]{32}$/);
  });
});
