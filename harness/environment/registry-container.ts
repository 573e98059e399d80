import { type StartedNetwork, type StartedTestContainer, Wait } from "testcontainers";
import { HarnessError } from "../errors.ts";
import type { ProvisionedImage } from "../provision/image-source.ts";
import { REGISTRY_CONFIG } from "../provision/registry-image.ts";
import { withTimeout } from "../timeouts.ts";
import { resourceLabels } from "./labels.ts";
import { LoopbackContainer } from "./loopback-container.ts";

/** The name builders use for the registry inside the environment's network. */
const REGISTRY_ALIAS = "registry";
const PORT = 5000;

export interface StartedRegistry {
  readonly container: StartedTestContainer;
  /** host:port as seen by buildkitd inside the network, used in image references. */
  readonly hostInNetwork: string;
  /** http://127.0.0.1:port, as seen by the harness on the host. */
  readonly urlFromHost: string;
}

export async function startRegistry(image: ProvisionedImage, network: StartedNetwork): Promise<StartedRegistry> {
  const container = await new LoopbackContainer(image.reference)
    .withNetwork(network)
    .withNetworkAliases(REGISTRY_ALIAS)
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
  return {
    container,
    hostInNetwork: `${REGISTRY_ALIAS}:${PORT}`,
    urlFromHost: `http://127.0.0.1:${container.getMappedPort(PORT)}`,
  };
}

/** Stops `current` and starts an empty registry under the same name, so builders need no change. */
export async function replaceRegistry(current: StartedRegistry, image: ProvisionedImage, network: StartedNetwork): Promise<StartedRegistry> {
  await current.container.stop({ timeout: 0 }).catch(() => undefined);
  return withTimeout("environmentStart", "Starting a fresh registry", startRegistry(image, network));
}
