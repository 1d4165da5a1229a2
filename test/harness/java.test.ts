import { findJava } from '../../scripts/harness/native/java';

describe('findJava', () => {
  it('refuses on the Docker path, where no service runs on the host', () => {
    expect(() => findJava(17, { ...process.env, SERVICES_RUNTIME: 'docker' })).toThrow('SERVICES_RUNTIME=docker runs the services in containers, yet a native service asked for Java 17+');
  });

  it('names every place it looked when no Java is found', () => {
    expect(() => findJava(999, { PATH: '/nonexistent', JAVA_HOME: '/nonexistent' })).toThrow(/No Java 999\+ found \(looked at JAVA_HOME, PATH and \/usr\/lib\/jvm\)/);
  });
});
