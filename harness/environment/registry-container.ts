import type Dockerode from "dockerode";
import { type StartedNetwork, type StartedTestContainer, Wait } from "testcontainers";
import { HarnessError } from "../errors.ts";
import { RegistryClient } from "../oci/registry-client.ts";
import { BASE_IMAGES, type PushedBaseImage, pushBaseImages } from "../provision/base-images.ts";
import { docker } from "../provision/docker-client.ts";
import type { ProvisionedImage } from "../provision/image-source.ts";
import { REGISTRY_CONFIG } from "../provision/registry-image.ts";
import { withTimeout } from "../timeouts.ts";
import { resourceLabels } from "./labels.ts";
import { LoopbackContainer } from "./loopback-container.ts";
import { containerStandby, type Standby } from "./standby.ts";

/** The name builders use for the registry inside the environment's network. */
const REGISTRY_ALIAS = "registry";
const PORT = 5000;

export interface StartedRegistry {
  readonly container: StartedTestContainer;
  /** host:port as seen by buildkitd inside the network, used in image references. */
  readonly hostInNetwork: string;
  /** http://127.0.0.1:port, as seen by the harness on the host. */
  readonly urlFromHost: string;
  /** The harness's base images, pushed when it started: a fresh registry holds these and nothing else. */
  readonly baseImages: ReadonlyMap<string, PushedBaseImage>;
}

/**
 * Starts a registry holding only the base images on the engine's default bridge, where its
 * port is published for the harness; builders reach it only once it joins an
 * environment's network.
 */
async function startRegistry(image: ProvisionedImage): Promise<StartedRegistry> {
  const container = await new LoopbackContainer(image.reference)
    .withLabels(resourceLabels())
    .withCopyContentToContainer([{ content: REGISTRY_CONFIG, target: "/etc/docker/registry/config.yml" }])
    .withTmpFs({ "/var/lib/registry": `rw,size=${process.env.BUILDKIT_REPRO_REGISTRY_SIZE ?? "2g"}` })
    .withExposedPorts(PORT)
    .withWaitStrategy(Wait.forHttp("/v2/", PORT).forStatusCode(200))
    .withStartupTimeout(30_000)
    .start()
    .catch((err: unknown) => {
      throw new HarnessError(
        "REGISTRY_ERROR",
        `The test registry (${image.description}) did not answer on /v2/: ${(err as Error).message}`,
        "Check that this host can reach ports Docker publishes on 127.0.0.1 (`docker run -p 127.0.0.1::5000 ...` then curl), and the engine's log.",
        { cause: err },
      );
    });
  const hostInNetwork = `${REGISTRY_ALIAS}:${PORT}`;
  const urlFromHost = `http://127.0.0.1:${container.getMappedPort(PORT)}`;
  try {
    const baseImages = await pushBaseImages(new RegistryClient(urlFromHost), BASE_IMAGES, hostInNetwork);
    return { container, hostInNetwork, urlFromHost, baseImages };
  } catch (err) {
    await container.stop({ timeout: 0 }).catch(() => undefined);
    throw err;
  }
}

function networkOf(network: StartedNetwork): Dockerode.Network {
  return docker.getNetwork(network.getId());
}

/** The next registry, seated in `network` under the alias builders use; retired if it cannot join. */
async function joined(network: StartedNetwork, standby: Standby<StartedRegistry>): Promise<StartedRegistry> {
  const registry = await standby.take();
  try {
    await networkOf(network).connect({ Container: registry.container.getId(), EndpointConfig: { Aliases: [REGISTRY_ALIAS] } });
    return registry;
  } catch (err) {
    standby.retire(registry);
    throw new HarnessError(
      "REGISTRY_ERROR",
      `The test registry could not join the environment's network: ${(err as Error).message}`,
      "Check the engine's log.",
      {
        cause: err,
      },
    );
  }
}

/**
 * An environment's registry: the one builders reach as `registry:5000` in its network, and
 * the next, empty one kept ready. A fresh registry takes the name in two engine calls (the
 * old one leaves the network, the new one joins it) instead of a container start.
 */
export class RegistrySeat {
  private constructor(
    private readonly network: StartedNetwork,
    private readonly standby: Standby<StartedRegistry>,
    private seated: StartedRegistry,
  ) {}

  static async open(image: ProvisionedImage, network: StartedNetwork): Promise<RegistrySeat> {
    const standby = containerStandby("registry", () => withTimeout("environmentStart", "Starting a registry", startRegistry(image)));
    try {
      return new RegistrySeat(network, standby, await joined(network, standby));
    } catch (err) {
      await standby.close();
      throw err;
    }
  }

  get current(): StartedRegistry {
    return this.seated;
  }

  /** Replaces the registry with a fresh one (only the base images) under the same name, so builders need no change. */
  async fresh(): Promise<StartedRegistry> {
    const old = this.seated;
    // Leaves first: two containers under one alias would both answer the builders' lookups.
    await networkOf(this.network)
      .disconnect({ Container: old.container.getId(), Force: true })
      .catch(() => undefined);
    this.standby.retire(old);
    this.seated = await joined(this.network, this.standby);
    return this.seated;
  }

  /** Removes the current registry and the one kept ready; the network is free of them after. */
  async close(): Promise<void> {
    this.standby.retire(this.seated);
    await this.standby.close();
  }
}
