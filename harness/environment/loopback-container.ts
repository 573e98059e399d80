import { GenericContainer, type PortWithOptionalBinding } from "testcontainers";

/**
 * A GenericContainer whose published ports bind to 127.0.0.1 only: a test registry and a
 * buildkitd without TLS must not be reachable from other machines.
 */
export class LoopbackContainer extends GenericContainer {
  override withExposedPorts(...ports: PortWithOptionalBinding[]): this {
    super.withExposedPorts(...ports);
    for (const bindings of Object.values(this.hostConfig.PortBindings ?? {}) as Array<Array<{ HostIp?: string }>>) {
      for (const binding of bindings) binding.HostIp = "127.0.0.1";
    }
    return this;
  }
}
