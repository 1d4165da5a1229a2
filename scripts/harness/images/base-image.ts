import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cached } from '../native/maven';
import { importImage } from './docker';
import { inputHash, type ImageInputs } from './input-hash';

export const BASE_TAG = 'trade-webhooks-local/debian:bookworm';

const MIRROR = 'http://deb.debian.org/debian';
const DEBOOTSTRAP_ARGS = ['--variant=minbase', 'bookworm'];
/** The release, its point updates and its security updates, as in the official debian image. */
const SOURCES = [
  `deb ${MIRROR} bookworm main`,
  `deb ${MIRROR} bookworm-updates main`,
  'deb http://deb.debian.org/debian-security bookworm-security main',
  '',
].join('\n');
/**
 * apt keeps no package files or package caches in an image layer (the official debian image's
 * `docker-clean`): the caches are 80 MB that every `apt-get update` would otherwise leave behind.
 */
const APT_CLEAN = [
  'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };',
  'APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };',
  'Dir::Cache::pkgcache "";',
  'Dir::Cache::srcpkgcache "";',
  '',
].join('\n');
const CHANGES = ['ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'CMD ["bash"]'];

export const BASE_INPUTS: ImageInputs = Object.freeze({
  files: { 'sources.list': SOURCES, 'docker-clean': APT_CLEAN },
  buildArgs: { debootstrap: [...DEBOOTSTRAP_ARGS, MIRROR].join(' ') },
  parts: CHANGES,
});

/**
 * Debian's minimal base system as a tarball, made once by debootstrap and kept in the cache
 * (one for each set of inputs): importing it again takes seconds, debootstrap half a minute.
 */
function rootfsTarball(cacheDir: string, hash: string): string {
  const dir = cached(join(cacheDir, 'images', `debian-bookworm-${hash.slice(0, 12)}`), (scratch) => {
    const root = join(scratch, 'rootfs');
    execFileSync('/usr/sbin/debootstrap', [...DEBOOTSTRAP_ARGS, root, MIRROR], { stdio: ['ignore', 'inherit', 'inherit'] });
    writeFileSync(join(root, 'etc', 'apt', 'sources.list'), SOURCES);
    writeFileSync(join(root, 'etc', 'apt', 'apt.conf.d', 'docker-clean'), APT_CLEAN);
    // The install's packages and indexes: every image fetches current ones.
    execFileSync('find', [join(root, 'var', 'cache', 'apt'), join(root, 'var', 'lib', 'apt', 'lists'), '-type', 'f', '-delete']);
    execFileSync('tar', ['--numeric-owner', '-C', root, '-cf', join(scratch, 'rootfs.tar'), '.']);
    rmSync(root, { recursive: true, force: true });
  });
  return join(dir, 'rootfs.tar');
}

export function baseHash(): string {
  return inputHash(BASE_INPUTS);
}

export function importBase(cacheDir: string, hash: string): void {
  importImage({ tarball: rootfsTarball(cacheDir, hash), tag: BASE_TAG, hash, changes: CHANGES });
}
